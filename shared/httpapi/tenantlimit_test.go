package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/customers"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/apicheck"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/release"
)

// tokens is an Authenticator of fixed bearer tokens.
type tokens map[string]auth.Principal

func (t tokens) Verify(_ context.Context, authorization string) (auth.Principal, error) {
	if p, ok := t[authorization]; ok {
		return p, nil
	}
	return auth.Principal{}, apperr.New(apperr.Unauthenticated, "unknown token")
}

var _ httpapi.Authenticator = tokens(nil)

// emptyLists answers every listing with an empty page and counts them; the
// other calls are not made by these tests.
type emptyLists struct {
	httpapi.Service
	calls int
}

func (e *emptyLists) CustomerList(context.Context, auth.Principal, release.ListParams) (domain.Page, error) {
	e.calls++
	return domain.Page{}, nil
}

func (e *emptyLists) ProviderList(context.Context, auth.Principal, string, release.ListParams) (domain.Page, error) {
	e.calls++
	return domain.Page{}, nil
}

// List is the operators' customer list, empty, counted with the others.
func (e *emptyLists) List(context.Context, auth.Principal, string, int) (domain.CustomerPage, error) {
	e.calls++
	return domain.CustomerPage{}, nil
}

// The other customers use cases are not called by these tests.
func (e *emptyLists) Put(context.Context, auth.Principal, string, customers.Input) (domain.Customer, bool, error) {
	return domain.Customer{}, false, errors.New("not called")
}

func (e *emptyLists) Link(context.Context, auth.Principal, string, string) error {
	return errors.New("not called")
}

func (e *emptyLists) Unlink(context.Context, auth.Principal, string, string) error {
	return errors.New("not called")
}

func (e *emptyLists) ForProvider(context.Context, auth.Principal) ([]domain.Customer, error) {
	return nil, errors.New("not called")
}

var _ httpapi.Customers = (*emptyLists)(nil)

// TestTenantBudget runs in a synctest bubble: time only moves when the test
// sleeps, so the refill is exact and the machine's speed plays no part.
func TestTenantBudget(t *testing.T) {
	validator, err := apicheck.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	callers := tokens{
		"Bearer acme":   {Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"},
		"Bearer acme-2": {Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "bob"},
		"Bearer globex": {Role: auth.RoleCustomerAdmin, TenantID: "globex", Subject: "carol"},
		"Bearer pxc":    {Role: auth.RoleProvider, ProviderID: "pxc", Subject: "provider:pxc"},
		"Bearer olive":  {Role: auth.RoleOperator, Subject: "olive"},
		"Bearer oscar":  {Role: auth.RoleOperator, Subject: "oscar"},
	}
	type step struct {
		sleep       time.Duration // before the request
		who, path   string
		status      int
		retryAfter  string // "" = no header
		serviceCall bool   // the request reached the service
	}
	const customer, provider, operator = "/v1/numbers", "/provider/v1/customers/acme/numbers", "/admin/v1/customers"
	tests := []struct {
		name        string
		rate, burst int
		steps       []step
	}{
		{name: "a burst, then one request a second", rate: 1, burst: 3, steps: []step{
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 429, "1", false},
			{999 * time.Millisecond, "acme", customer, 429, "1", false},
			{time.Millisecond, "acme", customer, 200, "", true},
			{0, "acme", customer, 429, "1", false},
		}},
		{name: "the budget is the tenant's, not the user's", rate: 1, burst: 1, steps: []step{
			{0, "acme", customer, 200, "", true},
			{0, "acme-2", customer, 429, "1", false},
		}},
		{name: "one tenant over its budget leaves the others theirs", rate: 1, burst: 2, steps: []step{
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 429, "1", false},
			{0, "globex", customer, 200, "", true},
			{0, "pxc", provider, 200, "", true},
			{0, "globex", customer, 200, "", true},
			{0, "globex", customer, 429, "1", false},
		}},
		{name: "each operator has a budget of their own", rate: 1, burst: 1, steps: []step{
			{0, "olive", operator, 200, "", true},
			{0, "olive", operator, 429, "1", false},
			{0, "oscar", operator, 200, "", true},
			{0, "acme", customer, 200, "", true},
		}},
		{name: "Retry-After rounds the wait up to whole seconds", rate: 1, burst: 1, steps: []step{
			{0, "pxc", provider, 200, "", true},
			{0, "pxc", provider, 429, "1", false},
		}},
		{name: "a slow refill says how long", rate: 2, burst: 1, steps: []step{
			{0, "acme", customer, 200, "", true},
			{100 * time.Millisecond, "acme", customer, 429, "1", false},
			{400 * time.Millisecond, "acme", customer, 200, "", true},
		}},
		{name: "an idle hour refills to the burst, not beyond", rate: 1, burst: 2, steps: []step{
			{time.Hour, "acme", customer, 200, "", true},
			{0, "acme", customer, 200, "", true},
			{0, "acme", customer, 429, "1", false},
		}},
		{name: "unauthenticated requests take nothing", rate: 1, burst: 1, steps: []step{
			{0, "nobody", customer, 401, "", false},
			{0, "acme", customer, 200, "", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				limiter, err := httpapi.NewTenantLimiter(tt.rate, tt.burst)
				if err != nil {
					t.Fatal(err)
				}
				svc := &emptyLists{}
				api := httpapi.New(svc, callers, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)), httpapi.WithTenantLimiter(limiter),
					httpapi.WithCustomers(svc))
				for i, s := range tt.steps {
					time.Sleep(s.sleep)
					before := svc.calls
					req := httptest.NewRequest(http.MethodGet, s.path, nil)
					req.Header.Set("Authorization", "Bearer "+s.who)
					rec := httptest.NewRecorder()
					api.ServeHTTP(rec, req)
					res := rec.Result()
					body := rec.Body.Bytes()
					if res.StatusCode != s.status || res.Header.Get("Retry-After") != s.retryAfter {
						t.Fatalf("step %d (%s): %d Retry-After %q, want %d %q: %s", i, s.who, res.StatusCode, res.Header.Get("Retry-After"), s.status, s.retryAfter, body)
					}
					if (svc.calls > before) != s.serviceCall {
						t.Errorf("step %d: reached the service %v, want %v", i, svc.calls > before, s.serviceCall)
					}
					if err := validator.ValidateResponse(req, res.StatusCode, res.Header, body); err != nil {
						t.Errorf("step %d: the answer does not match the OpenAPI document: %v", i, err)
					}
					if s.status == http.StatusTooManyRequests {
						var p map[string]any
						if err := json.Unmarshal(body, &p); err != nil || p["code"] != "too_many_requests" || res.Header.Get("Content-Type") != apperr.ContentType {
							t.Errorf("step %d: 429 body %s (%v), want a too_many_requests problem", i, body, err)
						}
					}
				}
			})
		})
	}
}

// Callers who went quiet are forgotten once their bucket is full again, so
// the limiter's memory follows the recent callers, not every caller ever.
func TestTenantLimiterForgetsIdleCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := httpapi.NewTenantLimiter(1, 100)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1000 {
			l.Take(fmt.Sprintf("tenant %d", i))
		}
		if n := httpapi.Buckets(l); n != 1000 {
			t.Fatalf("%d buckets after 1000 callers, want 1000", n)
		}
		time.Sleep(59 * time.Second)
		for range 100 {
			l.Take("busy")
		}
		time.Sleep(time.Second) // the others are full again, "busy" is not
		l.Take("other")
		if n := httpapi.Buckets(l); n != 2 {
			t.Errorf("%d buckets after a quiet minute, want 2 (busy, other)", n)
		}
	})
}

func TestNewTenantLimiterRefusesNoBudget(t *testing.T) {
	for _, c := range [][2]int{{0, 1}, {1, 0}, {-1, 5}} {
		if _, err := httpapi.NewTenantLimiter(c[0], c[1]); err == nil {
			t.Errorf("NewTenantLimiter(%d, %d) accepted", c[0], c[1])
		}
	}
}
