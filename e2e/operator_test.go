package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// customerView is a customer as the operator API answers it.
type customerView struct {
	CustomerID    string   `json:"customer_id"`
	Name          string   `json:"name"`
	ZoomAccountID string   `json:"zoom_account_id"`
	ContactEmails []string `json:"contact_emails"`
	Providers     []string `json:"providers"`
}

// listedCustomer finds a customer in the operator's list, paging through it.
func listedCustomer(t *testing.T, op *client, id string) (customerView, bool) {
	t.Helper()
	target := "/admin/v1/customers?limit=100"
	for {
		var page struct {
			Items      []customerView `json:"items"`
			NextCursor *string        `json:"next_cursor"`
		}
		if st := op.do("GET", target, nil, &page); st != http.StatusOK {
			t.Fatalf("list customers: %d", st)
		}
		for _, c := range page.Items {
			if c.CustomerID == id {
				return c, true
			}
		}
		if page.NextCursor == nil {
			return customerView{}, false
		}
		target = "/admin/v1/customers?limit=100&cursor=" + url.QueryEscape(*page.NextCursor)
	}
}

// providerCustomers is the customer picker of a provider.
func providerCustomers(t *testing.T, p *client) []string {
	t.Helper()
	var out struct {
		Items []struct {
			CustomerID string `json:"customer_id"`
			Name       string `json:"name"`
		} `json:"items"`
	}
	if st := p.do("GET", "/provider/v1/customers", nil, &out); st != http.StatusOK {
		t.Fatalf("provider's customers: %d", st)
	}
	var ids []string
	for _, c := range out.Items {
		ids = append(ids, c.CustomerID)
	}
	return ids
}

// TestOnboardingThroughTheOperatorAPI: an operator onboards a new customer
// with its Zoom account through the API alone and links it to a provider;
// the provider asks for a number, which the customer approves and which
// waits for its unassignment in Zoom. The operator unlinks the provider: its
// next request is refused saying it is not linked, it no longer sees the
// customer or its numbers, and the number in flight still completes once
// unassigned (the unbind's notification finds the customer through the
// lookup of its Zoom account, which the API wrote with the customer). The
// support view shows the history with who acted.
func TestOnboardingThroughTheOperatorAPI(t *testing.T) {
	suffix := strconv.FormatInt(time.Now().UnixNano()%1_000_000_000, 36)
	id, account := "nova-"+suffix, "zoom-nova-"+suffix
	const inFlight, refused, user = "+14155550601", "+14155550602", "u-nina"
	olive := tokenFor(t, `{"kind":"operator","sub":"olive"}`)
	pat := tokenFor(t, `{"kind":"provider","provider_id":"pxc","sub":"pat"}`)

	// Onboarding: the customer with its Zoom account, then the link.
	var c customerView
	body := map[string]any{"name": "Nova Telecom", "zoom_account_id": account, "contact_emails": []string{"it@nova.example"}}
	if st := olive.do("PUT", "/admin/v1/customers/"+id, body, &c); st != http.StatusOK {
		t.Fatalf("PUT customer: %d", st)
	}
	if c.CustomerID != id || c.ZoomAccountID != account || len(c.Providers) != 0 || !slices.Equal(c.ContactEmails, []string{"it@nova.example"}) {
		t.Fatalf("PUT customer answered %+v", c)
	}
	var problem struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	if st := olive.do("PUT", "/admin/v1/customers/"+id+"-2", map[string]any{"name": "Copycat", "zoom_account_id": account}, &problem); st != http.StatusConflict ||
		!strings.Contains(problem.Detail, "already belongs to customer "+id) {
		t.Fatalf("another customer with the same Zoom account: %d %+v; want 409 naming %s", st, problem, id)
	}
	if st := olive.do("PUT", "/admin/v1/providers/pxc/customers/"+id, nil, nil); st != http.StatusNoContent {
		t.Fatalf("link: %d", st)
	}
	if listed, ok := listedCustomer(t, olive, id); !ok || listed.ZoomAccountID != account || !slices.Equal(listed.Providers, []string{"pxc"}) {
		t.Fatalf("the operator's list shows %+v (found %v)", listed, ok)
	}
	if _, ok := listedCustomer(t, olive, id+"-2"); ok {
		t.Fatal("the refused customer was written")
	}
	if ids := providerCustomers(t, pat); !slices.Contains(ids, id) {
		t.Fatalf("pxc's customers %v lack %s", ids, id)
	}
	if stack != nil {
		// The lookup the webhook resolves a Zoom account with was written
		// with the customer.
		if c, err := stack.Store.CustomerByZoomAccount(t.Context(), account); err != nil || c.ID != id {
			t.Fatalf("the customer of %s in the table: %+v, %v", account, c, err)
		}
	}

	// The number in the customer's Zoom account, assigned to a user; the
	// customer's admin connects Zoom (customer mode).
	putZoomNumber(t, account, inFlight, user)
	ensureConnected(t, id, account)
	nina := customer(t, id)
	requestRelease(t, pat, id, inFlight)
	if r := approve(t, nina, inFlight); r.Results[0].Status != "RELEASING" {
		t.Fatalf("approve: %+v", r.Results)
	}
	nina.waitStatus(inFlight, "WAITING_FOR_UNASSIGN", settle())

	// Unlinked: the provider's new request is refused, saying why.
	if st := olive.do("DELETE", "/admin/v1/providers/pxc/customers/"+id, nil, nil); st != http.StatusNoContent {
		t.Fatalf("unlink: %d", st)
	}
	st := pat.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": id, "numbers": []string{refused}}, &problem)
	if st != http.StatusNotFound || problem.Code != "not_found" || !strings.Contains(problem.Detail, fmt.Sprintf("provider pxc is not linked to customer %q", id)) {
		t.Fatalf("a request after the unlink: %d %+v; want 404 saying pxc is not linked to %s", st, problem, id)
	}
	if st := pat.do("GET", "/provider/v1/customers/"+id+"/numbers", nil, nil); st != http.StatusNotFound {
		t.Fatalf("the unlinked provider lists the customer's numbers: %d", st)
	}
	if ids := providerCustomers(t, pat); slices.Contains(ids, id) {
		t.Fatalf("pxc still lists %s: %v", id, ids)
	}
	if st := nina.do("GET", "/v1/numbers/"+url.PathEscape(refused), nil, nil); st != http.StatusNotFound {
		t.Fatalf("the refused request was recorded: GET %s answered %d", refused, st)
	}

	// The number in flight still completes: the unbind's notification
	// reaches the waiting workflow through the Zoom account's lookup.
	unbind(t, user, inFlight)
	nina.waitStatus(inFlight, "RELEASED", settle())

	// Support: the operator reads the history, with who did what.
	var d numberDetail
	if st := olive.do("GET", "/admin/v1/customers/"+id+"/numbers/"+url.PathEscape(inFlight), nil, &d); st != http.StatusOK {
		t.Fatalf("support view: %d", st)
	}
	if msg := d.chainError(); msg != "" {
		t.Fatalf("support view history: %s (%s)", msg, d.path())
	}
	actors := map[string]string{}
	for _, h := range d.History {
		if _, seen := actors[h.To]; !seen {
			actors[h.To] = h.Actor
		}
	}
	want := map[string]string{"PENDING_APPROVAL": "provider:pxc/pat", "RELEASING": "customer:" + id + "/admin-" + id, "RELEASED": "workflow"}
	for to, actor := range want {
		if actors[to] != actor {
			t.Errorf("→ %s by %q; want %q (history %s)", to, actors[to], actor, d.path())
		}
	}
	if own := nina.number(inFlight); own.Status != d.Status || len(own.History) != len(d.History) {
		t.Errorf("the support view (%s) differs from the customer's (%s)", d.path(), own.path())
	}
}
