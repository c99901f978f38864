package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/auth"
)

// TestOperatorRoutesByRole: every route of the operator API and the
// provider's customer list, with a token of each role: the role it is for
// gets through, every other gets 403, no token 401.
func TestOperatorRoutesByRole(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571")
	routes := []struct {
		method, path string
		body         any
		role         string
		ok           int
	}{
		{"GET", "/admin/v1/customers", nil, "olive", 200},
		{"GET", "/admin/v1/customers?limit=1", nil, "olive", 200},
		{"PUT", "/admin/v1/customers/nova", map[string]any{"name": "Nova"}, "olive", 200},
		{"GET", "/admin/v1/customers/acme/numbers/%2B97239754571", nil, "olive", 200},
		{"PUT", "/admin/v1/providers/other/customers/nova", nil, "olive", 204},
		{"DELETE", "/admin/v1/providers/other/customers/nova", nil, "olive", 204},
		{"GET", "/provider/v1/customers", nil, "pxc", 200},
	}
	for _, rt := range routes {
		for _, who := range []string{"olive", "pxc", "acme", ""} {
			want := http.StatusForbidden
			switch who {
			case rt.role:
				want = rt.ok
			case "":
				want = http.StatusUnauthorized
			}
			t.Run(fmt.Sprintf("%s %s as %q", rt.method, rt.path, who), func(t *testing.T) {
				e.t = t
				r := e.call(rt.method, rt.path, who, rt.body)
				if r.status != want {
					t.Fatalf("status %d; want %d: %s", r.status, want, r.body)
				}
			})
		}
	}
}

// TestOperatorBadInput: bad input is refused with a problem naming the
// field (or parameter), and nothing is written.
func TestOperatorBadInput(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571")
	numbersCursor := func() string {
		e.request("+97239754569")
		r := e.call("GET", "/v1/numbers?limit=1", "acme", nil)
		c, _ := r.json(t)["next_cursor"].(string)
		if c == "" {
			t.Fatalf("no cursor: %s", r.body)
		}
		return c
	}()
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("ops%d@nova.example", i)
	}
	const nova = "/admin/v1/customers/nova"
	tests := []struct {
		name         string
		method, path string
		body         any
		headers      []string
		status       int
		code         string
		mentions     string
	}{
		{"no name", "PUT", nova, `{"zoom_account_id":"zoom-nova"}`, nil, 400, "invalid_request", "name is required"},
		{"empty name", "PUT", nova, `{"name":""}`, nil, 400, "invalid_request", "name is empty"},
		{"blank name", "PUT", nova, `{"name":" \t "}`, nil, 400, "invalid_request", "name is blank"},
		{"name of 201 characters", "PUT", nova, map[string]any{"name": strings.Repeat("é", 201)}, nil, 400, "invalid_request", "name is 201 characters"},
		{"control character in the name", "PUT", nova, `{"name":"Nova\u0000"}`, nil, 400, "invalid_request", "name: character 5 is a control character"},
		{"null name", "PUT", nova, `{"name":null}`, nil, 400, "invalid_request", `\"name\" must not be null`},
		{"name of the wrong type", "PUT", nova, `{"name":7}`, nil, 400, "invalid_request", `\"name\" must be a string`},
		{"bad Zoom account", "PUT", nova, `{"name":"Nova","zoom_account_id":"zoom#nova"}`, nil, 400, "invalid_request", "zoom_account_id is not a Zoom account id: character 5 is '#'"},
		{"empty Zoom account", "PUT", nova, `{"name":"Nova","zoom_account_id":""}`, nil, 400, "invalid_request", "zoom_account_id is not a Zoom account id: it is empty"},
		{"eleven contact emails", "PUT", nova, map[string]any{"name": "Nova", "contact_emails": eleven}, nil, 400, "invalid_request", "contact_emails has 11 addresses"},
		{"not an address", "PUT", nova, `{"name":"Nova","contact_emails":["it@nova.example","it at nova"]}`, nil, 400, "invalid_request", "contact_emails[1] is not a valid email address"},
		{"a display name", "PUT", nova, `{"name":"Nova","contact_emails":["Nova IT <it@nova.example>"]}`, nil, 400, "invalid_request", "contact_emails[0] must be a bare address"},
		{"an address twice", "PUT", nova, `{"name":"Nova","contact_emails":["it@nova.example","it@nova.example"]}`, nil, 400, "invalid_request", "contact_emails[1] repeats contact_emails[0]"},
		{"contact emails not a list", "PUT", nova, `{"name":"Nova","contact_emails":"it@nova.example"}`, nil, 400, "invalid_request", "contact_emails"},
		{"an unknown field", "PUT", nova, `{"name":"Nova","providers":["pxc"]}`, nil, 400, "invalid_request", `unknown field \"providers\"`},
		{"a field twice", "PUT", nova, `{"name":"Nova","name":"Evil"}`, nil, 400, "invalid_request", `\"name\" appears more than once`},
		{"customer id not an identifier", "PUT", "/admin/v1/customers/Nova", `{"name":"Nova"}`, nil, 400, "invalid_request", "customer_id is not a valid identifier"},
		{"no body", "PUT", nova, "", []string{"Content-Type", "application/json"}, 400, "invalid_request", "empty"},
		{"a form", "PUT", nova, `name=Nova`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "application/json"},
		{"acme's Zoom account", "PUT", nova, `{"name":"Nova","zoom_account_id":"zoom-acme"}`, nil, 409, "conflict", "Zoom account zoom-acme already belongs to customer acme"},
		{"acme takes globex's Zoom account", "PUT", "/admin/v1/customers/acme", `{"name":"Acme","zoom_account_id":"zoom-globex"}`, nil, 409, "conflict", "zoom-globex already belongs to customer globex"},
		{"link an unknown customer", "PUT", "/admin/v1/providers/pxc/customers/nova", nil, nil, 404, "not_found", "customer nova not found; create it first"},
		{"link a provider id not an identifier", "PUT", "/admin/v1/providers/PXC/customers/acme", nil, nil, 400, "invalid_request", "provider_id is not a valid identifier"},
		{"link a customer id not an identifier", "PUT", "/admin/v1/providers/pxc/customers/ac%20me", nil, nil, 400, "invalid_request", "customer_id is not a valid identifier"},
		{"unlink a provider id not an identifier", "DELETE", "/admin/v1/providers/P_X/customers/acme", nil, nil, 400, "invalid_request", "provider_id is not a valid identifier"},
		{"unlink what is not linked", "DELETE", "/admin/v1/providers/other/customers/acme", nil, nil, 204, "", ""},
		{"unlink a customer id not an identifier", "DELETE", "/admin/v1/providers/pxc/customers/-acme", nil, nil, 400, "invalid_request", "customer_id is not a valid identifier"},
		{"limit 0", "GET", "/admin/v1/customers?limit=0", nil, nil, 400, "invalid_request", "limit"},
		{"limit 101", "GET", "/admin/v1/customers?limit=101", nil, nil, 400, "invalid_request", "limit must be between 1 and 100"},
		{"empty cursor", "GET", "/admin/v1/customers?cursor=", nil, nil, 400, "invalid_request", "cursor is empty"},
		{"cursor twice", "GET", "/admin/v1/customers?cursor=a&cursor=b", nil, nil, 400, "invalid_request", "cursor is given 2 times"},
		{"garbage cursor", "GET", "/admin/v1/customers?cursor=abc", nil, nil, 400, "invalid_request", "cursor is not valid for this listing"},
		{"a numbers listing's cursor", "GET", "/admin/v1/customers?cursor=" + url.QueryEscape(numbersCursor), nil, nil, 400, "invalid_request", "cursor is not valid for this listing"},
		{"support: not a number", "GET", "/admin/v1/customers/acme/numbers/12ab", nil, nil, 400, "invalid_numbers", "12ab"},
		{"support: customer id not an identifier", "GET", "/admin/v1/customers/ACME/numbers/%2B97239754571", nil, nil, 400, "invalid_request", "customer_id"},
		{"support: unknown number", "GET", "/admin/v1/customers/acme/numbers/%2B14155552671", nil, nil, 404, "not_found", "+14155552671"},
		{"support: unknown customer", "GET", "/admin/v1/customers/nobody/numbers/%2B97239754571", nil, nil, 404, "not_found", ""},
		{"wrong method on the list", "POST", "/admin/v1/customers", `{"name":"Nova"}`, nil, 405, "method_not_allowed", "GET"},
		{"wrong method on a customer", "DELETE", "/admin/v1/customers/acme", nil, nil, 405, "method_not_allowed", "PUT"},
		{"wrong method on a link", "GET", "/admin/v1/providers/pxc/customers/acme", nil, nil, 405, "method_not_allowed", "DELETE, PUT"},
	}
	// The demo's Zoom accounts, through the API.
	for _, c := range []string{"acme", "globex"} {
		e.want(e.call("PUT", "/admin/v1/customers/"+c, "olive", map[string]any{"name": c, "zoom_account_id": "zoom-" + c}), http.StatusOK, "")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.tenants() + "|" + e.snapshot("acme")
			r := e.call(tt.method, tt.path, "olive", tt.body, tt.headers...)
			e.want(r, tt.status, tt.code)
			if tt.mentions != "" && !strings.Contains(string(r.body), tt.mentions) {
				t.Errorf("problem does not mention %q: %s", tt.mentions, r.body)
			}
			if after := e.tenants() + "|" + e.snapshot("acme"); after != before {
				t.Errorf("a refused request changed data:\n%s\n%s", before, after)
			}
		})
	}
}

// TestOnboardingThroughTheAPI: an operator creates a customer with its
// Zoom account, links a provider, and the provider sees it and asks for a
// number; the support view shows who acted. Unlinked, the provider is told
// it is not linked, sees neither the customer nor its numbers, and the
// customer's own view and approval go on. Every change is logged with the
// operator.
func TestOnboardingThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	novaToken, err := e.issuer.Issue(auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "nova", Subject: "nina"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["nova"] = "Bearer " + novaToken
	put := map[string]any{"name": "Nova Telecom", "zoom_account_id": "zoom-nova", "contact_emails": []string{"it@nova.example"}}
	for range 2 { // the same PUT twice: the same customer
		r := e.call("PUT", "/admin/v1/customers/nova", "olive", put)
		e.want(r, http.StatusOK, "")
		if string(r.body) != `{"customer_id":"nova","name":"Nova Telecom","zoom_account_id":"zoom-nova","contact_emails":["it@nova.example"],"providers":[]}` {
			t.Fatalf("PUT answered %s", r.body)
		}
	}
	for range 2 {
		e.want(e.call("PUT", "/admin/v1/providers/pxc/customers/nova", "olive", nil), http.StatusNoContent, "")
	}
	r := e.call("PUT", "/admin/v1/customers/nova", "olive", map[string]any{"name": "Nova Telecom Ltd"})
	e.want(r, http.StatusOK, "")
	if string(r.body) != `{"customer_id":"nova","name":"Nova Telecom Ltd","zoom_account_id":"zoom-nova","contact_emails":["it@nova.example"],"providers":["pxc"]}` {
		t.Fatalf("a rename answered %s; want the rest kept", r.body)
	}
	r = e.call("GET", "/admin/v1/customers", "olive", nil)
	e.want(r, http.StatusOK, "")
	if !strings.Contains(string(r.body), `{"customer_id":"nova","name":"Nova Telecom Ltd","zoom_account_id":"zoom-nova","providers":["pxc"]}`) {
		t.Fatalf("the list lacks nova: %s", r.body)
	}
	if c, err := e.store.CustomerByZoomAccount(t.Context(), "zoom-nova"); err != nil || c.ID != "nova" {
		t.Fatalf("the webhook's lookup of zoom-nova = %+v, %v", c, err)
	}
	pxcCustomers := func() string {
		r := e.call("GET", "/provider/v1/customers", "pat", nil)
		e.want(r, http.StatusOK, "")
		return string(r.body)
	}
	if got := pxcCustomers(); got != `{"items":[{"customer_id":"acme","name":"Acme"},{"customer_id":"globex","name":"Globex"},{"customer_id":"nova","name":"Nova Telecom Ltd"}]}` {
		t.Fatalf("pxc's customers = %s", got)
	}
	r = e.call("POST", "/provider/v1/release-requests", "pat", map[string]any{"customer_id": "nova", "numbers": []string{"+14155552671"}})
	e.want(r, http.StatusCreated, "")
	support := e.call("GET", "/admin/v1/customers/nova/numbers/%2B14155552671", "olive", nil)
	e.want(support, http.StatusOK, "")
	own := e.call("GET", "/v1/numbers/%2B14155552671", "nova", nil)
	e.want(own, http.StatusOK, "")
	if !bytes.Equal(support.body, own.body) {
		t.Fatalf("the support view differs from the customer's:\n%s\n%s", support.body, own.body)
	}
	var detail struct {
		History []struct{ Actor, To string } `json:"history"`
	}
	if err := json.Unmarshal(support.body, &detail); err != nil || len(detail.History) != 1 || detail.History[0].Actor != "provider:pxc/pat" {
		t.Fatalf("history = %+v, %v; want the request by provider:pxc/pat", detail.History, err)
	}

	for range 2 {
		e.want(e.call("DELETE", "/admin/v1/providers/pxc/customers/nova", "olive", nil), http.StatusNoContent, "")
	}
	r = e.call("POST", "/provider/v1/release-requests", "pat", map[string]any{"customer_id": "nova", "numbers": []string{"+14155552672"}})
	e.want(r, http.StatusNotFound, "not_found")
	if !strings.Contains(string(r.body), `provider pxc is not linked to customer \"nova\"`) {
		t.Fatalf("the refusal does not say the provider is not linked: %s", r.body)
	}
	e.want(e.call("GET", "/provider/v1/customers/nova/numbers", "pat", nil), http.StatusNotFound, "not_found")
	if got := pxcCustomers(); strings.Contains(got, "nova") {
		t.Fatalf("pxc still lists nova: %s", got)
	}
	// The customer still sees the number and may approve it.
	r = e.call("POST", "/v1/numbers/release", "nova", map[string]any{"numbers": []string{"+14155552671"}})
	e.want(r, http.StatusAccepted, "")
	if !strings.Contains(string(r.body), `"status":"RELEASING"`) {
		t.Fatalf("approval after the unlink = %s", r.body)
	}
	logs := e.logs.String()
	for _, msg := range []string{"customer saved", "provider linked", "provider unlinked"} {
		if !strings.Contains(logs, `"msg":"`+msg+`","actor":"operator:olive","operator":"olive"`) {
			t.Errorf("no %q logged with the operator:\n%s", msg, logs)
		}
	}
}
