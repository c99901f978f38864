package zoomsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

const (
	// carrierDefaultPageSize and carrierMaxPageSize are the carrier view's
	// page sizes (Zoom's documented default and maximum).
	carrierDefaultPageSize = 30
	carrierMaxPageSize     = 300
	// carrierPageTokenPrefix marks the carrier view's page tokens.
	carrierPageTokenPrefix = "carrier-after:"
)

// AdminCarrier is a carrier's own Zoom account as the admin endpoints show
// it.
type AdminCarrier struct {
	AccountID   string `json:"account_id"`
	CarrierCode int    `json:"carrier_code"`
}

// AddCarrier makes accountID the Zoom account of the peering carrier
// carrierCode (its own Server-to-Server app's account): a token of that
// account then reads the carrier's view (GET
// /number_management/carrier/peering_numbers) and removes the carrier's
// peering numbers from whichever customer account holds them. Giving the
// account another code replaces the first.
func (s *Sim) AddCarrier(accountID string, carrierCode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCarrierLocked(accountID, carrierCode)
}

// addCarrierLocked is AddCarrier with s.mu held.
func (s *Sim) addCarrierLocked(accountID string, carrierCode int) {
	s.carrierAccounts[accountID] = carrierCode
	s.carriers[carrierCode] = true
}

// Carriers lists the carriers' accounts, sorted by account id.
func (s *Sim) Carriers() []AdminCarrier {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AdminCarrier, 0, len(s.carrierAccounts))
	for a, c := range s.carrierAccounts {
		out = append(out, AdminCarrier{AccountID: a, CarrierCode: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AccountID < out[j].AccountID })
	return out
}

// carrierOfLocked is the carrier code of a carrier's account (0: the
// account is not a carrier's). s.mu must be held.
func (s *Sim) carrierOfLocked(account string) int {
	return s.carrierAccounts[account]
}

// carrierViewNumber is one number of the carrier's view.
type carrierViewNumber struct {
	PhoneNumber  string `json:"phone_number"`
	Assigned     bool   `json:"assigned"`
	SIPTrunkName string `json:"sip_trunk_name"`
	Status       bool   `json:"status"`
}

// carrierViewResponse is a page of the carrier's view.
type carrierViewResponse struct {
	NextPageToken string              `json:"next_page_token"`
	Numbers       []carrierViewNumber `json:"numbers"`
	TotalRecords  int                 `json:"total_records"`
}

// handleCarrierView is GET
// /zoom-sim/v2/number_management/carrier/peering_numbers ("List peering
// phone numbers for provider"): the numbers the token's carrier pushed to
// any customer account, sorted by number, each with whether it is
// assigned, its SIP trunk name and status (always active here); filtered by
// phone_number; page_size 1 to 300 (default 30), paged with an opaque
// next_page_token. A token of an account that is not a carrier's gets 400
// code 1001 "Carrier not found." The simulator has no account names or
// numbers, so customer_account_name and customer_account_number are left
// out.
func (s *Sim) handleCarrierView(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var only string
	if raw := q.Get("phone_number"); raw != "" {
		n, err := number.Parse(raw)
		if err != nil {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: phone_number.")
			return
		}
		only = n
	}
	size := carrierDefaultPageSize
	if raw := q.Get("page_size"); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil || v < 1 || v > carrierMaxPageSize {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter,
				fmt.Sprintf("Invalid parameter: page_size must be 1 to %d.", carrierMaxPageSize))
			return
		}
		size = v
	}
	var after string
	if raw := q.Get("next_page_token"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || !strings.HasPrefix(string(b), carrierPageTokenPrefix) {
			writeZoomError(w, http.StatusBadRequest, zoom.CodeInvalidParameter, "Invalid parameter: next_page_token.")
			return
		}
		after = strings.TrimPrefix(string(b), carrierPageTokenPrefix)
	}

	s.mu.Lock()
	carrier := s.carrierOfLocked(accountOf(r.Context()))
	var match []carrierViewNumber
	for _, e := range s.numbers {
		if carrier == 0 || e.carrier != carrier || (only != "" && e.number != only) {
			continue
		}
		match = append(match, carrierViewNumber{PhoneNumber: e.number, Assigned: e.assignee != nil,
			SIPTrunkName: trunkName(carrier), Status: true})
	}
	s.mu.Unlock()
	if carrier == 0 {
		writeZoomError(w, http.StatusBadRequest, zoom.CodeCarrierNotFound, "Carrier not found.")
		return
	}
	sort.Slice(match, func(i, j int) bool { return match[i].PhoneNumber < match[j].PhoneNumber })

	start := sort.Search(len(match), func(i int) bool { return match[i].PhoneNumber > after })
	end := min(start+size, len(match))
	resp := carrierViewResponse{TotalRecords: len(match), Numbers: match[start:end]}
	if resp.Numbers == nil {
		resp.Numbers = []carrierViewNumber{}
	}
	if end < len(match) {
		resp.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(carrierPageTokenPrefix + match[end-1].PhoneNumber))
	}
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// trunkName is the simulated SIP trunk group of a carrier's numbers.
func trunkName(carrier int) string {
	return fmt.Sprintf("sim-carrier-%d-trunk", carrier)
}

// adminCarrier is the body of POST /zoom-sim/admin/carriers.
type adminCarrier struct {
	AccountID   string `json:"account_id"`
	CarrierCode int    `json:"carrier_code"`
}

// handleAdminCarrierList is GET /zoom-sim/admin/carriers.
func (s *Sim) handleAdminCarrierList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", struct {
		Carriers []AdminCarrier `json:"carriers"`
	}{s.Carriers()})
}

// handleAdminCarrierPut is POST /zoom-sim/admin/carriers
// {"account_id","carrier_code"}: AddCarrier; 201 for a new carrier account,
// 200 for one that was already a carrier's.
func (s *Sim) handleAdminCarrierPut(w http.ResponseWriter, r *http.Request) {
	var in adminCarrier
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	var bad []fieldProblem
	account := strings.TrimSpace(in.AccountID)
	if account == "" {
		bad = append(bad, fieldProblem{Field: "account_id", Reason: "required"})
	}
	if in.CarrierCode <= 0 {
		bad = append(bad, fieldProblem{Field: "carrier_code", Reason: "required: a positive integer"})
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
		return
	}
	s.mu.Lock()
	_, existed := s.carrierAccounts[account]
	s.addCarrierLocked(account, in.CarrierCode)
	s.mu.Unlock()
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, "application/json", AdminCarrier{AccountID: account, CarrierCode: in.CarrierCode})
}
