package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/harness/localauth"
)

// TestAuthorizationMatrix tries every endpoint with every kind of bad
// credential and checks the exact status, that no other tenant's data is in
// any body, and that nothing was written or started.
func TestAuthorizationMatrix(t *testing.T) {
	e := newEnv(t)
	// acme has numbers from pxc; initech has one from "other".
	e.request("+97239754571", "+97239754569")
	mine := e.request("+97239754568").json(t)["request_id"].(string)
	r := e.call("POST", "/provider/v1/release-requests", "other", map[string]any{"customer_id": "initech", "numbers": []string{"+14155552671"}})
	e.want(r, http.StatusCreated, "")
	theirs := r.json(t)["request_id"].(string)

	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": e.issuer.Issuer(), "aud": e.issuer.Audience(), "sub": "alice", "role": "customer_admin",
			"tenant_id": "acme", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		mod(c)
		return c
	}
	sign := func(c jwt.MapClaims) string {
		tok, err := e.issuer.IssueClaims(c)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	stranger, err := localauth.New(e.issuer.Issuer(), e.issuer.Audience())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := stranger.IssueClaims(claims(func(jwt.MapClaims) {}))
	if err != nil {
		t.Fatal(err)
	}
	badTokens := map[string]string{
		"no token":        "",
		"expired":         sign(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() })),
		"not yet valid":   sign(claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })),
		"forged":          "Bearer " + forged,
		"wrong issuer":    sign(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" })),
		"wrong audience":  sign(claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" })),
		"garbage":         "Bearer not.a.jwt",
		"basic auth":      "Basic YWNtZTphY21l",
		"provider claims": sign(claims(func(c jwt.MapClaims) { c["role"] = "provider"; delete(c, "provider_id") })),
	}
	type endpoint struct {
		method, path string
		body         any
		role         string // the role the endpoint is for
	}
	endpoints := []endpoint{
		{"POST", "/provider/v1/release-requests", map[string]any{"customer_id": "acme", "numbers": []string{"+14155550000"}}, "provider"},
		{"GET", "/provider/v1/customers/acme/numbers", nil, "provider"},
		{"DELETE", "/provider/v1/customers/acme/numbers/%2B97239754571/release-request", nil, "provider"},
		{"GET", "/v1/numbers", nil, "customer"},
		{"POST", "/v1/numbers/release", map[string]any{"numbers": []string{"+97239754571"}}, "customer"},
		{"POST", "/v1/numbers/reject", map[string]any{"numbers": []string{"+97239754571"}}, "customer"},
		{"GET", "/v1/numbers/%2B97239754571", nil, "customer"},
		{"GET", "/provider/v1/customers", nil, "provider"},
		{"GET", "/provider/v1/release-requests", nil, "provider"},
		{"GET", "/provider/v1/release-requests/" + mine, nil, "provider"},
		{"DELETE", "/provider/v1/release-requests/" + mine, nil, "provider"},
		{"GET", "/admin/v1/customers", nil, "operator"},
		{"PUT", "/admin/v1/customers/acme", map[string]any{"name": "Taken over", "zoom_account_id": "zoom-evil"}, "operator"},
		{"PUT", "/admin/v1/customers/evil", map[string]any{"name": "Evil"}, "operator"},
		{"GET", "/admin/v1/customers/acme/numbers/%2B97239754571", nil, "operator"},
		{"PUT", "/admin/v1/providers/other/customers/acme", nil, "operator"},
		{"DELETE", "/admin/v1/providers/pxc/customers/acme", nil, "operator"},
	}
	// Who holds each role; every other role is refused with 403.
	roles := map[string]string{"provider": "pxc", "customer": "acme", "operator": "olive"}
	roleClaims := map[string]string{"provider": "provider", "customer": "customer_admin", "operator": "operator"}
	before := e.snapshot("acme") + "|" + e.snapshot("initech") + "|" + e.tenants()
	starts := len(e.workflow.Started())
	check := func(t *testing.T, r response, status int) {
		t.Helper()
		if r.status != status {
			t.Fatalf("status %d; want %d: %s", r.status, status, r.body)
		}
		if strings.Contains(string(r.body), "+14155552671") || strings.Contains(string(r.body), "initech") && status != http.StatusNotFound {
			t.Fatalf("body leaks another tenant's data: %s", r.body)
		}
	}
	for _, ep := range endpoints {
		for name, tok := range badTokens {
			t.Run(fmt.Sprintf("%s %s/%s", ep.method, ep.path, name), func(t *testing.T) {
				e.t = t
				r := e.call(ep.method, ep.path, tok, ep.body)
				check(t, r, http.StatusUnauthorized)
				if !strings.Contains(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("401 without a Bearer challenge")
				}
			})
		}
		for role, who := range roles {
			if role == ep.role {
				continue
			}
			t.Run(ep.method+" "+ep.path+"/wrong role "+role, func(t *testing.T) {
				e.t = t
				r := e.call(ep.method, ep.path, who, ep.body)
				check(t, r, http.StatusForbidden)
				if want := "this endpoint is for the " + roleClaims[ep.role] + " role"; !strings.Contains(string(r.body), want) {
					t.Errorf("403 does not say %q: %s", want, r.body)
				}
			})
		}
	}
	// Another tenant, an unlinked provider: not found, never someone else's data.
	crossTenant := []struct {
		name, method, path, who string
		body                    any
	}{
		{"other tenant reads acme's number", "GET", "/v1/numbers/%2B97239754571", "globex", nil},
		{"unlinked provider lists acme", "GET", "/provider/v1/customers/acme/numbers", "other", nil},
		{"unlinked provider requests for acme", "POST", "/provider/v1/release-requests", "other", map[string]any{"customer_id": "acme", "numbers": []string{"+14155550000"}}},
		{"unlinked provider cancels acme's number", "DELETE", "/provider/v1/customers/acme/numbers/%2B97239754571/release-request", "other", nil},
		{"linked provider cancels a number it did not ask for", "DELETE", "/provider/v1/customers/initech/numbers/%2B14155552671/release-request", "pxc", nil},
		{"provider lists an unknown customer", "GET", "/provider/v1/customers/nobody/numbers", "pxc", nil},
		{"provider reads another provider's request", "GET", "/provider/v1/release-requests/" + theirs, "pxc", nil},
		{"provider cancels another provider's request", "DELETE", "/provider/v1/release-requests/" + theirs, "pxc", nil},
		{"provider lists the requests of an unlinked customer", "GET", "/provider/v1/release-requests?customer_id=initech", "pxc", nil},
		{"unlinked provider reads acme's request", "GET", "/provider/v1/release-requests/" + mine, "other", nil},
	}
	for _, tt := range crossTenant {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.call(tt.method, tt.path, tt.who, tt.body)
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d; want 404: %s", r.status, r.body)
			}
			if strings.Contains(string(r.body), "+97239754571") && !strings.Contains(tt.path, "97239754571") {
				t.Fatalf("body leaks data: %s", r.body)
			}
		})
	}
	// Other tenants' approvals and rejections are per-number not_found, and touch nothing.
	t.Run("other tenant approves and rejects acme's numbers", func(t *testing.T) {
		e.t = t
		for _, path := range []string{"/v1/numbers/release", "/v1/numbers/reject"} {
			r := e.call("POST", path, "globex", map[string]any{"numbers": []string{"+97239754571"}})
			if r.status/100 != 2 || !strings.Contains(string(r.body), `"code":"not_found"`) {
				t.Fatalf("%s by globex: %d %s", path, r.status, r.body)
			}
		}
		r := e.call("GET", "/v1/numbers", "globex", nil)
		if strings.Contains(string(r.body), "+9723975457") {
			t.Fatalf("globex lists acme's numbers: %s", r.body)
		}
	})
	e.t = t
	if after := e.snapshot("acme") + "|" + e.snapshot("initech") + "|" + e.tenants(); after != before {
		t.Fatalf("refused requests changed data:\n%s\n%s", before, after)
	}
	if len(e.workflow.Started()) != starts {
		t.Fatal("a refused request started a workflow")
	}
}
