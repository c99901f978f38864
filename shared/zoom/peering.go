package zoom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"numberrelease/shared/number"
)

// MaxPeeringNumbers is how many numbers one DELETE
// /number_management/peering_numbers accepts.
const MaxPeeringNumbers = 200

const peeringRoute = "/number_management/peering_numbers"

// PeeringFailure is a number Zoom did not remove through the Provider
// Exchange, with Zoom's reason and what it means: Assigned (unassign it
// first) or Rejected (anything else, e.g. a number this carrier did not
// add).
type PeeringFailure struct {
	Number string
	Reason string
	Kind   Kind
}

// peeringResponse is the answer of DELETE /number_management/peering_numbers.
type peeringResponse struct {
	Unprocessed []struct {
		PhoneNumber   string `json:"phone_number"`
		FailureReason string `json:"failure_reason"`
	} `json:"unprocessed_numbers"`
}

// RemovePeeringNumbers removes numbers (E.164) that the carrier carrierCode
// added to the Zoom account through the Provider Exchange (Cloud Peering):
// DELETE /number_management/peering_numbers, at most MaxPeeringNumbers per
// call, a Light call. Zoom removes what it can and lists the rest with a
// reason; a number Zoom reports as not there is counted as removed (a retry
// after a partial failure is safe), the others are returned as failures.
// err is for a call that failed as a whole (throttled, unavailable, an
// unknown carrier code, ...); numbers of earlier calls stay removed.
func (c *Client) RemovePeeringNumbers(ctx context.Context, accountID string, carrierCode int, numbers []string) ([]PeeringFailure, error) {
	const op = "remove peering numbers"
	if carrierCode <= 0 {
		return nil, &Error{Kind: Rejected, op: op, Message: fmt.Sprintf("carrier code %d: must be a positive integer", carrierCode)}
	}
	clean := make([]string, 0, len(numbers))
	seen := map[string]bool{}
	for _, raw := range numbers {
		n, err := number.Parse(raw)
		if err != nil {
			return nil, &Error{Kind: Rejected, op: op, Message: fmt.Sprintf("%q: %v", raw, err)}
		}
		if !seen[n] {
			seen[n] = true
			clean = append(clean, n)
		}
	}
	var failures []PeeringFailure
	for start := 0; start < len(clean); start += MaxPeeringNumbers {
		batch := clean[start:min(start+MaxPeeringNumbers, len(clean))]
		f, err := c.removePeeringBatch(ctx, accountID, carrierCode, batch)
		if err != nil {
			return failures, fmt.Errorf("%s: %w", op, err)
		}
		failures = append(failures, f...)
	}
	return failures, nil
}

func (c *Client) removePeeringBatch(ctx context.Context, accountID string, carrierCode int, batch []string) ([]PeeringFailure, error) {
	q := url.Values{"phone_numbers": batch, "carrier_code": {strconv.Itoa(carrierCode)}}
	_, body, err := c.call(ctx, accountID, labelPeeringDel, http.MethodDelete, peeringRoute, peeringRoute, q)
	if err != nil {
		// On this endpoint a 404 is not "number gone" (numbers are reported
		// one by one) and code 1001 is "Carrier not found": both are a
		// configuration problem, not something a retry fixes.
		if KindOf(err) == NotFound {
			err = asKind(err, Rejected)
		}
		return nil, err
	}
	var resp peeringResponse
	if len(body) > 0 {
		if err := json.Unmarshal(body, &resp); err != nil {
			return nil, &Error{Kind: Unavailable, Status: http.StatusOK, op: "DELETE " + peeringRoute, Message: "malformed response: " + err.Error()}
		}
	}
	var failures []PeeringFailure
	for _, u := range resp.Unprocessed {
		n := u.PhoneNumber
		if p, err := number.Parse(n); err == nil {
			n = p
		}
		switch {
		case looksAssigned(u.FailureReason):
			failures = append(failures, PeeringFailure{Number: n, Reason: u.FailureReason, Kind: Assigned})
		case looksMissing(u.FailureReason):
			// Not there (any more): already removed.
		default:
			failures = append(failures, PeeringFailure{Number: n, Reason: firstNonEmpty(u.FailureReason, "no reason given"), Kind: Rejected})
		}
	}
	return failures, nil
}
