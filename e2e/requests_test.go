package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type requestSummary struct {
	RequestID  string         `json:"request_id"`
	CustomerID string         `json:"customer_id"`
	CreatedAt  time.Time      `json:"created_at"`
	Reason     string         `json:"reason"`
	Counts     map[string]int `json:"counts"`
}

type requestDetail struct {
	RequestID  string `json:"request_id"`
	CustomerID string `json:"customer_id"`
	Numbers    []struct {
		Number, Status, Message string
	} `json:"numbers"`
}

// listedRequest finds a request in the provider's listing of one customer's
// requests (newest first: a new one is on the first page).
func listedRequest(t *testing.T, p *client, customerID, id string) requestSummary {
	t.Helper()
	var page struct {
		Items []requestSummary `json:"items"`
	}
	if st := p.do("GET", "/provider/v1/release-requests?customer_id="+url.QueryEscape(customerID), nil, &page); st != http.StatusOK {
		t.Fatalf("list requests: %d", st)
	}
	for _, r := range page.Items {
		if r.RequestID == id {
			return r
		}
	}
	t.Fatalf("request %s is not on the first page of %s's requests", id, customerID)
	return requestSummary{}
}

// A provider asks for 3 numbers; the customer approves one; the provider
// cancels the whole request: the 2 pending are CANCELLED, the approved one
// goes on (its result says why it could not be cancelled), and the listing
// counts what the numbers are.
func TestCancelWholeRequest(t *testing.T) {
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	nums := []string{"+14155550801", "+14155550802", "+14155550803"}
	for _, n := range nums {
		putZoomNumber(t, "zoom-acme", n, "")
	}
	var created struct {
		RequestID string `json:"request_id"`
	}
	if st := pxc.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": "acme", "numbers": nums, "reason": "end of contract"}, &created); st != http.StatusCreated {
		t.Fatalf("request: %d", st)
	}
	id := created.RequestID
	if got := listedRequest(t, pxc, "acme", id); got.Counts["PENDING_APPROVAL"] != 3 || len(got.Counts) != 1 || got.Reason != "end of contract" {
		t.Fatalf("listed before: %+v", got)
	}

	approved := nums[1]
	if r := approve(t, acme, approved); r.Results[0].Error != nil {
		t.Fatalf("approve: %+v", r.Results[0].Error)
	}

	var out struct {
		RequestID string `json:"request_id"`
		Results   []struct {
			Number, Status string
			Error          *struct{ Code, Detail string }
		} `json:"results"`
	}
	if st := pxc.do("DELETE", "/provider/v1/release-requests/"+id, nil, &out); st != http.StatusOK {
		t.Fatalf("cancel request: %d", st)
	}
	if out.RequestID != id || len(out.Results) != 3 {
		t.Fatalf("cancel answered %+v", out)
	}
	for _, r := range out.Results {
		if r.Number == approved {
			if r.Error == nil || r.Error.Code != "conflict" || !strings.Contains(r.Error.Detail, "only a request that is pending approval") {
				t.Errorf("the approved number's result: %+v %+v; want a refusal saying why", r, r.Error)
			}
			continue
		}
		if r.Status != "CANCELLED" || r.Error != nil {
			t.Errorf("%s: %+v; want CANCELLED", r.Number, r)
		}
	}

	// The approved number keeps going; the others stay with the customer.
	acme.waitStatus(approved, "RELEASED", settle())
	for _, n := range []string{nums[0], nums[2]} {
		if d := acme.number(n); d.Status != "CANCELLED" {
			t.Errorf("%s is %s; want CANCELLED", n, d.Status)
		}
		if _, inZoom := zoomNumbers(t)[n]; !inZoom {
			t.Errorf("cancelled %s left the Zoom account", n)
		}
	}

	var detail requestDetail
	if st := pxc.do("GET", "/provider/v1/release-requests/"+id, nil, &detail); st != http.StatusOK {
		t.Fatalf("read request: %d", st)
	}
	statuses := map[string]string{}
	for _, n := range detail.Numbers {
		statuses[n.Number] = n.Status
	}
	if statuses[nums[0]] != "CANCELLED" || statuses[approved] != "RELEASED" || statuses[nums[2]] != "CANCELLED" {
		t.Fatalf("request's numbers: %v", statuses)
	}
	if got := listedRequest(t, pxc, "acme", id); got.Counts["CANCELLED"] != 2 || got.Counts["RELEASED"] != 1 || len(got.Counts) != 2 {
		t.Fatalf("listed after: %+v; want CANCELLED 2, RELEASED 1", got.Counts)
	}

	// Sending the cancel again changes nothing and answers the same.
	var again struct {
		Results []struct {
			Number, Status string
			Error          *struct{ Code string }
		} `json:"results"`
	}
	if st := pxc.do("DELETE", "/provider/v1/release-requests/"+id, nil, &again); st != http.StatusOK || len(again.Results) != 3 {
		t.Fatalf("cancel again: %d %+v", st, again)
	}
	for _, r := range again.Results {
		if (r.Number == approved) != (r.Error != nil) {
			t.Errorf("cancel again, %s: %+v", r.Number, r)
		}
	}
	// Another provider cannot see it.
	if st := provider(t, "other").do("GET", "/provider/v1/release-requests/"+id, nil, nil); st != http.StatusNotFound {
		t.Fatalf("another provider reads the request: %d", st)
	}
}
