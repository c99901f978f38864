// Package httpapi is the HTTP face of Number Release: routing, bearer-token
// authentication, body limits, JSON decoding and RFC 9457 problem responses.
// The same http.Handler serves API Gateway (through package apigw) and the
// local runner, so behaviour is identical everywhere.
package httpapi

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
)

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// Authenticator verifies an Authorization header.
type Authenticator interface {
	Verify(ctx context.Context, authorization string) (auth.Principal, error)
}

// API is the provider, customer and operator API.
type API struct {
	svc       Service
	auth      Authenticator
	idem      IdempotencyStore
	log       *slog.Logger
	resources []resource
	// tenants, when set, is each caller's request budget.
	tenants *TenantLimiter
	// conns, when set, serves the customer's Zoom connection.
	conns ZoomConnections
	// customers, when set, serves customers and links (the operator API)
	// and the provider's customer list.
	customers Customers
	// hooks, when set, serves the provider's webhook.
	hooks Webhooks
}

// Option configures an API.
type Option func(*API)

// WithTenantLimiter gives each caller (customer tenant or provider) the
// request budget of l: over it, 429 with Retry-After.
func WithTenantLimiter(l *TenantLimiter) Option {
	return func(a *API) { a.tenants = l }
}

// resource is one documented path (openapi.yaml) and the methods it serves.
// Only these methods are served: any other gets 405 with exactly these in
// Allow, HEAD and OPTIONS included.
type resource struct {
	segments []string // "{name}" is a path parameter
	methods  map[string]http.Handler
}

// New builds the API's handler.
func New(svc Service, authn Authenticator, idem IdempotencyStore, log *slog.Logger, opts ...Option) *API {
	a := &API{svc: limited{svc}, auth: authn, idem: idem, log: log}
	for _, o := range opts {
		o(a)
	}
	provider := func(h authedHandler) http.Handler { return a.authed(auth.RoleProvider, h) }
	customer := func(h authedHandler) http.Handler { return a.authed(auth.RoleCustomerAdmin, h) }
	operator := func(h authedHandler) http.Handler { return a.authed(auth.RoleOperator, h) }

	// A literal path comes before a template that would also match it, as
	// in OpenAPI: GET /v1/numbers/release is a wrong method on
	// /v1/numbers/release, not a lookup of the number "release".
	a.handle("/provider/v1/release-requests", http.MethodPost, provider(a.createReleaseRequest))
	a.handle("/provider/v1/release-requests", http.MethodGet, provider(a.listRequests))
	a.handle("/provider/v1/release-requests/{request_id}", http.MethodGet, provider(a.getRequest))
	a.handle("/provider/v1/release-requests/{request_id}", http.MethodDelete, provider(a.cancelRequest))
	a.handle("/provider/v1/customers", http.MethodGet, provider(a.providerCustomers))
	a.handle("/provider/v1/webhook", http.MethodGet, provider(a.getWebhook))
	a.handle("/provider/v1/webhook", http.MethodPut, provider(a.putWebhook))
	a.handle("/provider/v1/webhook", http.MethodDelete, provider(a.deleteWebhook))
	a.handle("/provider/v1/webhook/test", http.MethodPost, provider(a.testWebhook))
	a.handle("/provider/v1/customers/{customer_id}/numbers", http.MethodGet, provider(a.providerList))
	a.handle("/provider/v1/customers/{customer_id}/numbers/{number}/release-request", http.MethodDelete, provider(a.cancel))
	a.handle("/v1/numbers", http.MethodGet, customer(a.customerList))
	a.handle("/v1/numbers/release", http.MethodPost, customer(a.approve))
	a.handle("/v1/numbers/reject", http.MethodPost, customer(a.reject))
	a.handle("/v1/numbers/{number}", http.MethodGet, customer(a.getNumber))
	a.handle("/v1/zoom/connection", http.MethodGet, customer(a.zoomStatus))
	a.handle("/v1/zoom/connection", http.MethodPost, customer(a.zoomComplete))
	a.handle("/v1/zoom/connection", http.MethodDelete, customer(a.zoomDisconnect))
	a.handle("/v1/zoom/connection/authorize", http.MethodPost, customer(a.zoomAuthorize))
	a.handle("/admin/v1/customers", http.MethodGet, operator(a.listCustomers))
	a.handle("/admin/v1/customers/{customer_id}", http.MethodPut, operator(a.putCustomer))
	a.handle("/admin/v1/customers/{customer_id}/numbers/{number}", http.MethodGet, operator(a.supportNumber))
	a.handle("/admin/v1/providers/{provider_id}/customers/{customer_id}", http.MethodPut, operator(a.link))
	a.handle("/admin/v1/providers/{provider_id}/customers/{customer_id}", http.MethodDelete, operator(a.unlink))
	return a
}

// handle adds method on path, after every path added before it.
func (a *API) handle(path, method string, h http.Handler) {
	segments := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i := range a.resources {
		if slices.Equal(a.resources[i].segments, segments) {
			a.resources[i].methods[method] = h
			return
		}
	}
	a.resources = append(a.resources, resource{segments: segments, methods: map[string]http.Handler{method: h}})
}

// route finds the first resource whose path matches r's, with its path
// parameters (percent-decoded, as the standard library's router gives them).
func (a *API) route(r *http.Request) (*resource, map[string]string) {
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	for i := range a.resources {
		res := &a.resources[i]
		if len(res.segments) != len(parts) {
			continue
		}
		params := map[string]string{}
		matched := true
		for j, seg := range res.segments {
			part, err := url.PathUnescape(parts[j])
			if err != nil {
				matched = false
				break
			}
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				if part == "" {
					matched = false
					break
				}
				params[strings.TrimSuffix(name, "}")] = part
			} else if part != seg {
				matched = false
				break
			}
		}
		if matched {
			return res, params
		}
	}
	return nil, nil
}

// allow lists a resource's methods for the Allow header.
func (res *resource) allow() string {
	methods := slices.Sorted(maps.Keys(res.methods))
	return strings.Join(methods, ", ")
}

// ServeHTTP routes a request; unknown paths and methods get problems too.
// Every answer carries X-Content-Type-Options: nosniff.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r = jsonhttp.EnsureRequestID(r, "X-Request-Id")
	w.Header().Set("X-Content-Type-Options", jsonhttp.NoSniff)
	sw := &statusWriter{ResponseWriter: w}
	res, params := a.route(r)
	switch h := a.handler(res, r.Method); {
	case res == nil:
		a.problem(sw, r, apperr.New(apperr.NotFound, "no such resource: %s", r.URL.Path))
	case h == nil:
		sw.Header().Set("Allow", res.allow())
		a.problem(sw, r, apperr.New(apperr.MethodNotAllowed, "%s is not served at %s; allowed: %s", r.Method, r.URL.Path, res.allow()))
	default:
		for name, value := range params {
			r.SetPathValue(name, value)
		}
		h.ServeHTTP(sw, r)
	}
	a.log.InfoContext(r.Context(), "request", "request_id", jsonhttp.RequestID(r.Context()), "method", r.Method,
		"path", r.URL.Path, "status", sw.status, "duration_ms", time.Since(start).Milliseconds())
}

func (a *API) handler(res *resource, method string) http.Handler {
	if res == nil {
		return nil
	}
	return res.methods[method]
}

type authedHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal)

// authed verifies the bearer token and the caller's role, and takes from
// the caller's request budget, before h runs. Two Authorization headers are
// refused rather than one of them picked.
func (a *API) authed(role auth.Role, h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p auth.Principal
		var err error
		if n := len(r.Header.Values("Authorization")); n > 1 {
			err = apperr.New(apperr.Unauthenticated, "send one Authorization header, not %d", n)
		} else {
			p, err = a.auth.Verify(r.Context(), r.Header.Get("Authorization"))
		}
		if err != nil {
			if apperr.CodeOf(err) == apperr.Unauthenticated {
				w.Header().Set("WWW-Authenticate", `Bearer realm="number-release"`)
			}
			a.problem(w, r, err)
			return
		}
		if p.Role != role {
			a.problem(w, r, apperr.New(apperr.Forbidden, "this endpoint is for the %s role; the token has role %s", role, p.Role))
			return
		}
		if err := a.takeBudget(w, p); err != nil {
			a.problem(w, r, err)
			return
		}
		h(w, r, p)
	})
}

// takeBudget takes a request from the caller's budget; over it, it sets
// Retry-After and returns the 429 to answer.
func (a *API) takeBudget(w http.ResponseWriter, p auth.Principal) error {
	if a.tenants == nil {
		return nil
	}
	who := "tenant " + p.TenantID
	switch p.Role {
	case auth.RoleProvider:
		who = "provider " + p.ProviderID
	case auth.RoleOperator:
		who = "operator " + p.Subject
	}
	ok, wait := a.tenants.Take(who)
	if ok {
		return nil
	}
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	rate, burst := a.tenants.Limits()
	return apperr.New(apperr.TooManyRequests, "%s is over its budget of %d requests per second (bursts of %d); retry after %d s", who, rate, burst, secs)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}
