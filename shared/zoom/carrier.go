package zoom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"numberrelease/shared/number"
)

const (
	// carrierViewRoute is Zoom's "List peering phone numbers for provider"
	// (Number Management API, Cloud Peering Provider Exchange): the
	// numbers the token's carrier pushed to its customers.
	carrierViewRoute = "/number_management/carrier/peering_numbers"
	// carrierPageSize is the page size CarrierPeeringNumbers asks for
	// (Zoom's documented maximum for this endpoint; default 30).
	carrierPageSize = 300
	// carrierMaxPages bounds the walk through the carrier's view: 1,000
	// pages of 300 numbers.
	carrierMaxPages = 1000
)

// PeeringNumber is a number as the carrier's view of Zoom lists it. The
// view says whether the number is assigned, not to whom.
type PeeringNumber struct {
	// Number is the number in E.164.
	Number string
	// Assigned says the customer has assigned the number in Zoom (to a
	// user, a call queue, ...): it cannot be removed until it is
	// unassigned.
	Assigned bool
	// Active is the number's status as the carrier set it: active, or
	// inactive (e.g. still being ported in).
	Active bool
	// SIPTrunkName is the carrier's SIP trunk group of the number.
	SIPTrunkName string
	// CustomerAccountName and CustomerAccountNumber name the Zoom
	// customer account the number was pushed to ("" when Zoom leaves
	// them out; the account number is not the account id).
	CustomerAccountName, CustomerAccountNumber string
}

// flag is a JSON boolean that also accepts 0 and 1: Zoom's current
// OpenAPI document types the view's "assigned" and "status" as booleans,
// older Provider Exchange documents and Zoom's own SDK (Rivet) as numbers.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch string(bytes.TrimSpace(b)) {
	case "true", "1":
		*f = true
	case "false", "0", "null":
		*f = false
	default:
		return fmt.Errorf("%s is neither a boolean nor 0 or 1", b)
	}
	return nil
}

// carrierViewPage is a page of GET /number_management/carrier/peering_numbers.
type carrierViewPage struct {
	NextPageToken string `json:"next_page_token"`
	Numbers       []struct {
		PhoneNumber           string `json:"phone_number"`
		Assigned              flag   `json:"assigned"`
		Status                flag   `json:"status"`
		SIPTrunkName          string `json:"sip_trunk_name"`
		CustomerAccountName   string `json:"customer_account_name"`
		CustomerAccountNumber string `json:"customer_account_number"`
	} `json:"numbers"`
}

// CarrierPeeringNumbers looks numbers (E.164) up in the carrier's own view
// of Zoom, with a token of the carrier's Zoom account carrierAccountID:
// GET /number_management/carrier/peering_numbers, the numbers this carrier
// pushed to any of its customers through the Provider Exchange, with
// whether each is assigned (a Light call per page). One number is asked
// for with Zoom's phone_number filter; several by walking the whole view,
// 300 numbers a page, until every one is found.
//
// The answer holds, keyed by E.164, each wanted number the view lists; a
// number it does not list is not (any more) in Zoom as this carrier's. A
// view of more than 1,000 pages that still lacks a number is Rejected
// rather than taken as "not listed"; a page token that comes back again is
// Unavailable. Zoom's 400 "Carrier not found" (code 1001: the account's
// app is not a peering carrier's) is Rejected.
func (c *Client) CarrierPeeringNumbers(ctx context.Context, carrierAccountID string, numbers []string) (map[string]PeeringNumber, error) {
	const op = "carrier peering numbers"
	want := map[string]bool{}
	for _, raw := range numbers {
		n, err := number.Parse(raw)
		if err != nil {
			return nil, &Error{Kind: Rejected, op: op, Message: fmt.Sprintf("%q: %v", raw, err)}
		}
		want[n] = true
	}
	found := make(map[string]PeeringNumber, len(want))
	if len(want) == 0 {
		return found, nil
	}
	q := url.Values{"page_size": {strconv.Itoa(carrierPageSize)}}
	if len(want) == 1 {
		for n := range want {
			q.Set("phone_number", n)
		}
	}
	seen := map[string]bool{}
	for range carrierMaxPages {
		page, err := c.carrierViewPage(ctx, carrierAccountID, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		for _, v := range page.Numbers {
			n, err := number.Parse(v.PhoneNumber)
			if err != nil || !want[n] {
				continue
			}
			pn := PeeringNumber{Number: n, Assigned: bool(v.Assigned), Active: bool(v.Status), SIPTrunkName: v.SIPTrunkName,
				CustomerAccountName: v.CustomerAccountName, CustomerAccountNumber: v.CustomerAccountNumber}
			// Listed twice, it counts as assigned if either says so.
			pn.Assigned = pn.Assigned || found[n].Assigned
			found[n] = pn
		}
		next := page.NextPageToken
		if next == "" || len(found) == len(want) {
			return found, nil
		}
		if seen[next] {
			return nil, &Error{Kind: Unavailable, Status: http.StatusOK, op: "GET " + carrierViewRoute,
				Message: "the carrier's view gave a page token it had given before"}
		}
		seen[next] = true
		q.Set("next_page_token", next)
	}
	return nil, &Error{Kind: Rejected, op: op,
		Message: fmt.Sprintf("the carrier's view has more than %d pages of %d numbers and %d of the %d wanted numbers were not on them",
			carrierMaxPages, carrierPageSize, len(want)-len(found), len(want))}
}

// CarrierView lists the carrier's whole view of Zoom (as
// CarrierPeeringNumbers does), reading at most pages pages of 300;
// complete is false when Zoom had more.
func (c *Client) CarrierView(ctx context.Context, carrierAccountID string, pages int) (numbers []PeeringNumber, complete bool, err error) {
	q := url.Values{"page_size": {strconv.Itoa(carrierPageSize)}}
	seen := map[string]bool{}
	for range pages {
		page, err := c.carrierViewPage(ctx, carrierAccountID, q)
		if err != nil {
			return nil, false, fmt.Errorf("carrier view: %w", err)
		}
		for _, v := range page.Numbers {
			n, err := number.Parse(v.PhoneNumber)
			if err != nil {
				continue
			}
			numbers = append(numbers, PeeringNumber{Number: n, Assigned: bool(v.Assigned), Active: bool(v.Status), SIPTrunkName: v.SIPTrunkName,
				CustomerAccountName: v.CustomerAccountName, CustomerAccountNumber: v.CustomerAccountNumber})
		}
		next := page.NextPageToken
		if next == "" {
			return numbers, true, nil
		}
		if seen[next] {
			return nil, false, &Error{Kind: Unavailable, Status: http.StatusOK, op: "GET " + carrierViewRoute,
				Message: "the carrier's view gave a page token it had given before"}
		}
		seen[next] = true
		q.Set("next_page_token", next)
	}
	return numbers, false, nil
}

// carrierViewPage is one GET of the carrier's view.
func (c *Client) carrierViewPage(ctx context.Context, accountID string, q url.Values) (carrierViewPage, error) {
	var page carrierViewPage
	_, body, err := c.call(ctx, accountID, labelCarrierView, http.MethodGet, carrierViewRoute, carrierViewRoute, q)
	if err != nil {
		// A 404 here is not "number gone" (an unlisted number is simply
		// absent from the page): it is a wrong route or account.
		if KindOf(err) == NotFound {
			err = asKind(err, Rejected)
		}
		return page, err
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return page, &Error{Kind: Unavailable, Status: http.StatusOK, op: "GET " + carrierViewRoute, Message: "malformed response: " + err.Error()}
	}
	return page, nil
}
