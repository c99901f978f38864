package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCarrierJourneyThroughTheAPI is the operators' and carriers' whole
// story through the API alone: an operator onboards a customer with its
// Zoom account (Zoom's own mixed-case id shape) and links a provider; the
// provider registers a webhook and asks for 3 numbers; the customer's admin
// connects Zoom and approves 2; the provider cancels the request. The 2
// approved are released, the third is cancelled, and the provider's
// receiver got every status change of all 3, signed (checked on receipt).
func TestCarrierJourneyThroughTheAPI(t *testing.T) {
	if stack == nil {
		t.Skip("the webhook receiver runs on this machine, beside the in-process system")
	}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
	customerID, providerID := "orbit-"+suffix, "carrier-"+suffix
	account := "Orb1tZoomAcct_" + suffix // Zoom's ids are mixed-case base64url
	numbers := []string{"+14155550901", "+14155550902", "+14155550903"}
	approved, cancelled := numbers[:2], numbers[2]
	olive := tokenFor(t, `{"kind":"operator","sub":"olive"}`)

	// The operator onboards the customer and links the provider.
	if st := olive.do("PUT", "/admin/v1/customers/"+customerID, map[string]any{
		"name": "Orbit Telecom", "zoom_account_id": account, "contact_emails": []string{"it@orbit.example"},
	}, nil); st != http.StatusOK {
		t.Fatalf("onboard %s: %d", customerID, st)
	}
	if st := olive.do("PUT", "/admin/v1/providers/"+providerID+"/customers/"+customerID, nil, nil); st != http.StatusNoContent {
		t.Fatalf("link %s to %s: %d", providerID, customerID, st)
	}

	// The provider registers its webhook, then asks for the 3 numbers.
	h := newHookReceiver(t, 0)
	p := provider(t, providerID)
	var reg struct {
		Secret string `json:"secret"`
	}
	if st := p.do("PUT", "/provider/v1/webhook", map[string]any{"url": h.srv.URL + "/hooks"}, &reg); st != http.StatusOK || reg.Secret == "" {
		t.Fatalf("register the webhook: %d", st)
	}
	h.setSecret(reg.Secret)
	for _, n := range numbers {
		putZoomNumber(t, account, n, "")
	}
	var created struct {
		RequestID string `json:"request_id"`
	}
	if st := p.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": customerID, "numbers": numbers}, &created); st != http.StatusCreated {
		t.Fatalf("request: %d", st)
	}

	// The customer's admin connects Zoom and approves 2; the provider then
	// cancels the whole request: only the third can still be cancelled.
	ensureConnected(t, customerID, account)
	admin := customer(t, customerID)
	if r := approve(t, admin, approved...); len(r.Results) != 2 {
		t.Fatalf("approve: %+v", r.Results)
	}
	var out struct {
		Results []struct {
			Number, Status string
			Error          *struct{ Code string }
		} `json:"results"`
	}
	if st := p.do("DELETE", "/provider/v1/release-requests/"+created.RequestID, nil, &out); st != http.StatusOK || len(out.Results) != 3 {
		t.Fatalf("cancel the request: %d %+v", st, out)
	}
	for _, r := range out.Results {
		switch {
		case r.Number == cancelled && (r.Status != "CANCELLED" || r.Error != nil):
			t.Errorf("%s: %+v; want CANCELLED", r.Number, r)
		case r.Number != cancelled && (r.Error == nil || r.Error.Code != "conflict"):
			t.Errorf("approved %s: %+v; want a conflict (it is being released)", r.Number, r)
		}
	}

	// Each number ends as expected.
	final := map[string]numberDetail{}
	for _, n := range approved {
		final[n] = admin.waitStatus(n, "RELEASED", settle())
	}
	final[cancelled] = admin.waitStatus(cancelled, "CANCELLED", settle())

	// The receiver got every status change of the 3, each in its history's
	// shape; the receiver refuses (and the test fails on) a bad signature.
	evs := h.waitFor(2*settle(), "every status change of the 3 numbers", func(evs []hookEvent) bool {
		for n, d := range final {
			for _, e := range d.History {
				if !hasChange(evs, n, e.Version) {
					return false
				}
			}
		}
		return true
	})
	for _, ev := range evs {
		d, ok := final[ev.Data.Number]
		if !ok || ev.Data.Version < 1 || ev.Data.Version > len(d.History) {
			t.Fatalf("event for a change not made: %+v", ev)
		}
		e := d.History[ev.Data.Version-1]
		if ev.Type != "number."+strings.ToLower(e.To) || ev.Data.Status != e.To || ev.Data.CustomerID != customerID ||
			ev.Data.ProviderID != providerID || ev.Data.RequestID != created.RequestID {
			t.Errorf("event %+v does not match history entry %+v", ev, e)
		}
	}
}
