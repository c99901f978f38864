package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/domain"
)

// token signs claims with the test issuer's key: a genuine token whose
// identity claims are whatever the test says.
func (e *env) token(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": e.issuer.Issuer(), "aud": e.issuer.Audience(), "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		c[k] = v
	}
	tok, err := e.issuer.IssueClaims(c)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// release moves one of acme's numbers to RELEASED.
func (e *env) release(t *testing.T, n string) {
	t.Helper()
	ctx := context.Background()
	cur, err := e.store.GetNumber(ctx, "acme", n)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []domain.Status{domain.Releasing, domain.Released} {
		next := cur
		next.Status = st
		if cur, err = e.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "workflow", Why: "test"}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIdentifierClaimsCannotForgeKeys: identity claims holding the key
// delimiter (or anything else outside the identifier syntax) are refused
// before they can name another tenant's or provider's data.
func TestIdentifierClaimsCannotForgeKeys(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571", "+97239754569")
	e.release(t, "+97239754571")
	body := map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}}
	e.want(e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "batch#1"), http.StatusCreated, "")

	customer := func(tenant, sub string) string {
		return e.token(t, jwt.MapClaims{"role": "customer_admin", "tenant_id": tenant, "sub": sub})
	}
	provider := func(id string) string {
		return e.token(t, jwt.MapClaims{"role": "provider", "provider_id": id, "sub": "bot"})
	}
	tests := []struct {
		name, method, path, who string
		body                    any
		key                     string
		claim                   string // the claim the refusal must name
	}{
		{"tenant acme#RELEASED lists acme's released numbers", "GET", "/v1/numbers", customer("acme#RELEASED", "mallory"), nil, "", "tenant_id"},
		{"tenant acme#RELEASED asks for released numbers", "GET", "/v1/numbers?status=RELEASED", customer("acme#RELEASED", "mallory"), nil, "", "tenant_id"},
		{"tenant with upper case", "GET", "/v1/numbers", customer("ACME", "mallory"), nil, "", "tenant_id"},
		{"customer sub with a slash", "GET", "/v1/numbers", customer("acme", "alice/../root"), nil, "", "sub"},
		{"provider pxc#batch replays pxc's stored answer", "POST", "/provider/v1/release-requests", provider("pxc#batch"), body, "1", "provider_id"},
		{"provider id with a space", "GET", "/provider/v1/customers/acme/numbers", provider("pxc x"), nil, "", "provider_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.snapshot("acme")
			var headers []string
			if tt.key != "" {
				headers = []string{"Idempotency-Key", tt.key}
			}
			r := e.call(tt.method, tt.path, tt.who, tt.body, headers...)
			e.want(r, http.StatusUnauthorized, "unauthenticated")
			if !strings.Contains(string(r.body), tt.claim) {
				t.Errorf("the refusal does not name the %s claim: %s", tt.claim, r.body)
			}
			if strings.Contains(string(r.body), "+9723975457") || strings.Contains(string(r.body), "+14155552671") {
				t.Fatalf("the refusal carries acme's numbers: %s", r.body)
			}
			if after := e.snapshot("acme"); after != before {
				t.Fatalf("refused request changed data:\n%s\n%s", before, after)
			}
		})
	}
}

// TestCustomerIDSyntax: a customer_id in a provider route's path or body
// must be an identifier; anything else is a 400 naming the field.
func TestCustomerIDSyntax(t *testing.T) {
	e := newEnv(t)
	e.request("+97239754571")
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"body customer_id with the delimiter", "POST", "/provider/v1/release-requests", map[string]any{"customer_id": "acme#x", "numbers": []string{"+14155552671"}}},
		{"body customer_id too long", "POST", "/provider/v1/release-requests", map[string]any{"customer_id": strings.Repeat("a", 65), "numbers": []string{"+14155552671"}}},
		{"path customer_id with the delimiter", "GET", "/provider/v1/customers/acme%23RELEASED/numbers", nil},
		{"path customer_id in upper case", "GET", "/provider/v1/customers/ACME/numbers", nil},
		{"cancel under a bad customer_id", "DELETE", "/provider/v1/customers/acme%23x/numbers/%2B97239754571/release-request", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.snapshot("acme")
			r := e.call(tt.method, tt.path, "pxc", tt.body)
			e.want(r, http.StatusBadRequest, "invalid_request")
			if !strings.Contains(string(r.body), "customer_id") {
				t.Errorf("the problem does not name customer_id: %s", r.body)
			}
			if after := e.snapshot("acme"); after != before {
				t.Fatalf("refused request changed data:\n%s\n%s", before, after)
			}
		})
	}
}
