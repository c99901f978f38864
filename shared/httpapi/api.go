// Package httpapi is the HTTP face of Number Release: routing, bearer-token
// authentication, body limits, JSON decoding and RFC 9457 problem responses.
// The same http.Handler serves API Gateway (through package apigw) and the
// local runner, so behaviour is identical everywhere.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
)

// MaxBodyBytes is the largest request body accepted (SPEC §4 limits).
const MaxBodyBytes = 1 << 20

// Authenticator verifies an Authorization header.
type Authenticator interface {
	Verify(ctx context.Context, authorization string) (auth.Principal, error)
}

// API is the provider and customer API.
type API struct {
	svc  Service
	auth Authenticator
	idem IdempotencyStore
	log  *slog.Logger
	mux  *http.ServeMux
}

// New builds the API's handler.
func New(svc Service, authn Authenticator, idem IdempotencyStore, log *slog.Logger) *API {
	a := &API{svc: svc, auth: authn, idem: idem, log: log, mux: http.NewServeMux()}
	provider := func(h authedHandler) http.Handler { return a.authed(auth.RoleProvider, h) }
	customer := func(h authedHandler) http.Handler { return a.authed(auth.RoleCustomerAdmin, h) }

	a.mux.Handle("POST /provider/v1/release-requests", provider(a.createReleaseRequest))
	a.mux.Handle("GET /provider/v1/customers/{customer_id}/numbers", provider(a.providerList))
	a.mux.Handle("DELETE /provider/v1/customers/{customer_id}/numbers/{number}/release-request", provider(a.cancel))
	a.mux.Handle("GET /v1/numbers", customer(a.customerList))
	a.mux.Handle("POST /v1/numbers/release", customer(a.approve))
	a.mux.Handle("POST /v1/numbers/reject", customer(a.reject))
	a.mux.Handle("GET /v1/numbers/{number}", customer(a.getNumber))
	return a
}

type ctxKey int

const requestIDKey ctxKey = iota

// WithRequestID returns a context carrying the id that problems and logs
// quote (API Gateway's request id when there is one).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// ServeHTTP routes a request; unknown paths and methods get problems too.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if requestID(r.Context()) == "" {
		id := r.Header.Get("X-Request-Id")
		if id == "" {
			id = jsonhttp.NewRequestID()
		}
		r = r.WithContext(WithRequestID(r.Context(), id))
	}
	sw := &statusWriter{ResponseWriter: w}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.unrouted(sw, r)
	} else {
		a.mux.ServeHTTP(sw, r)
	}
	a.log.InfoContext(r.Context(), "request", "request_id", requestID(r.Context()), "method", r.Method,
		"path", r.URL.Path, "status", sw.status, "duration_ms", time.Since(start).Milliseconds())
}

// unrouted answers 404 or 405 (with Allow) as problems.
func (a *API) unrouted(w http.ResponseWriter, r *http.Request) {
	rec := &discardWriter{header: http.Header{}}
	a.mux.ServeHTTP(rec, r)
	if rec.code == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		a.problem(w, r, apperr.New(apperr.MethodNotAllowed, "%s is not served at %s; allowed: %s", r.Method, r.URL.Path, rec.header.Get("Allow")))
		return
	}
	a.problem(w, r, apperr.New(apperr.NotFound, "no such resource: %s", r.URL.Path))
}

type authedHandler func(w http.ResponseWriter, r *http.Request, p auth.Principal)

// authed verifies the bearer token and the caller's role before h runs.
func (a *API) authed(role auth.Role, h authedHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.auth.Verify(r.Context(), r.Header.Get("Authorization"))
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
		h(w, r, p)
	})
}

// discardWriter learns what the mux would answer to an unrouted request.
type discardWriter struct {
	header http.Header
	code   int
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

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

func isJSONMediaType(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func isCurlDefault(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}
