package zoomsim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

// Provider Exchange failure reasons (per number, in unprocessed_numbers).
const (
	reasonNotExist   = "Phone number does not exist"
	reasonNotCarrier = "Phone number was not added by this carrier"
	reasonAssigned   = "Phone number is assigned; unassign it before removing it"
	reasonInvalid    = "Invalid number"
)

// peeringFailure is one entry of unprocessed_numbers.
type peeringFailure struct {
	PhoneNumber   string `json:"phone_number"`
	FailureReason string `json:"failure_reason"`
}

// peeringResponse is the answer of DELETE .../peering_numbers.
type peeringResponse struct {
	Unprocessed []peeringFailure `json:"unprocessed_numbers"`
}

// handlePeeringRemove is DELETE
// /zoom-sim/v2/number_management/peering_numbers?phone_numbers=+1...&phone_numbers=...&carrier_code=N
// (Cloud Peering Provider Exchange): the carrier removes numbers it added.
// With a token of the carrier's own account (AddCarrier) the carrier is the
// token's (carrier_code may be left out; naming another carrier is 400 1001
// "Carrier not found") and its numbers are removed from whichever customer
// account holds them. With a token of any other account, carrier_code
// names the carrier and only numbers of the token's account are removed.
// No number → 400 1002; more than 200 → 400 1003; a missing, invalid or
// unknown carrier_code → 400 1001. Otherwise 200: every unassigned number
// this carrier added is removed, every other one is listed in
// unprocessed_numbers with its reason. A carrier is known once a number
// was added with its code or it was given an account.
func (s *Sim) handlePeeringRemove(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var raw []string
	for _, v := range q["phone_numbers"] {
		for n := range strings.SplitSeq(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				raw = append(raw, n)
			}
		}
	}
	rawCode := strings.TrimSpace(q.Get("carrier_code"))
	switch {
	case len(raw) == 0:
		writeZoomError(w, http.StatusBadRequest, zoom.CodePeeringEmpty, "Request data cannot be empty.")
		return
	case len(raw) > maxPeeringNumbers:
		writeZoomError(w, http.StatusBadRequest, zoom.CodePeeringTooMany,
			fmt.Sprintf("Too many numbers, should less than %d.", maxPeeringNumbers))
		return
	}
	account := accountOf(r.Context())
	resp := peeringResponse{Unprocessed: []peeringFailure{}}
	s.mu.Lock()
	tokenCarrier := s.carrierOfLocked(account)
	carrier, err := strconv.Atoi(rawCode)
	if rawCode == "" && tokenCarrier != 0 {
		carrier, err = tokenCarrier, nil
	}
	if err != nil || !s.carriers[carrier] || (tokenCarrier != 0 && carrier != tokenCarrier) {
		s.mu.Unlock()
		writeZoomError(w, http.StatusBadRequest, zoom.CodeCarrierNotFound, "Carrier not found.")
		return
	}
	for _, in := range raw {
		n, err := number.Parse(in)
		if err != nil {
			resp.Unprocessed = append(resp.Unprocessed, peeringFailure{in, reasonInvalid})
			continue
		}
		e := s.numbers[n]
		switch {
		case e == nil || (tokenCarrier == 0 && e.accountID != account):
			resp.Unprocessed = append(resp.Unprocessed, peeringFailure{n, reasonNotExist})
		case e.carrier != carrier:
			resp.Unprocessed = append(resp.Unprocessed, peeringFailure{n, reasonNotCarrier})
		case e.assignee != nil:
			resp.Unprocessed = append(resp.Unprocessed, peeringFailure{n, reasonAssigned})
		default:
			delete(s.numbers, e.number)
			delete(s.byID, e.id)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, "application/json", resp)
}
