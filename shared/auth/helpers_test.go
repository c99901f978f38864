package auth

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "number-release"
)

// jwksServer is a real HTTP server whose handler can be swapped mid-test and
// which counts the JWKS requests it receives.
type jwksServer struct {
	*httptest.Server
	handler  atomic.Pointer[http.Handler]
	requests atomic.Int64
}

func newJWKSServer(t *testing.T, h http.Handler) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.serve(h)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == localJWKSPath {
			s.requests.Add(1)
		}
		(*s.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve swaps the handler answering every request.
func (s *jwksServer) serve(h http.Handler) { s.handler.Store(&h) }

// jwksURL is the JWKS URL a Verifier should use.
func (s *jwksServer) jwksURL() string { return s.URL + localJWKSPath }

// failing answers 500 to everything.
var failing = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "down", http.StatusInternalServerError)
})

func newIssuer(t *testing.T) *LocalIssuer {
	t.Helper()
	l, err := NewLocalIssuer(testIssuer, testAudience)
	if err != nil {
		t.Fatalf("NewLocalIssuer: %v", err)
	}
	return l
}

func newVerifier(t *testing.T, jwksURL string) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{JWKSURL: jwksURL, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(v.Close)
	return v
}

// customerClaims are valid customer_admin claims; tests edit copies.
func customerClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":       testIssuer,
		"aud":       testAudience,
		"sub":       "alice",
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
		"role":      string(RoleCustomerAdmin),
		"tenant_id": "acme",
	}
}

// with returns a copy of c with the given claims set (nil value deletes).
func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
			continue
		}
		out[k] = kv[i+1]
	}
	return out
}

func mustIssue(t *testing.T, l *LocalIssuer, p Principal) string {
	t.Helper()
	tok, err := l.Issue(p, time.Hour)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

func mustIssueClaims(t *testing.T, l *LocalIssuer, c jwt.MapClaims) string {
	t.Helper()
	tok, err := l.IssueClaims(c)
	if err != nil {
		t.Fatalf("IssueClaims: %v", err)
	}
	return tok
}

// mustSign signs claims with an arbitrary method, key and kid.
func mustSign(t *testing.T, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}
