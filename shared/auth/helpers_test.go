package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
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
		if r.URL.Path == testJWKSPath {
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
func (s *jwksServer) jwksURL() string { return s.URL + testJWKSPath }

// failing answers 500 to everything.
var failing = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, "down", http.StatusInternalServerError)
})

// testJWKSPath is where an issuer's handler serves its public JWK Set.
const testJWKSPath = "/jwks.json"

// issuer stands in for an identity provider: a fresh ES256 key with a
// random kid, whose public JWK Set its handler serves at testJWKSPath.
type issuer struct {
	key  *ecdsa.PrivateKey
	kid  string
	jwks []byte
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := rand.Text()
	jwk, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgES256, KID: kid, USE: jwkset.UseSig},
	})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{key: key, kid: kid, jwks: jwks}
}

// JWKS is the issuer's public JWK Set.
func (l *issuer) JWKS() []byte { return l.jwks }

// JWKSPath is where Handler serves the JWK Set.
func (l *issuer) JWKSPath() string { return testJWKSPath }

// Handler serves the JWK Set at testJWKSPath.
func (l *issuer) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != testJWKSPath {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(l.jwks)
	})
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

// mustIssue signs an hour's valid token for p with the issuer's key.
func mustIssue(t *testing.T, l *issuer, p Principal) string {
	t.Helper()
	c := with(customerClaims(), "sub", p.Subject, "role", string(p.Role), "tenant_id", nil)
	if p.TenantID != "" {
		c["tenant_id"] = p.TenantID
	}
	if p.ProviderID != "" {
		c["provider_id"] = p.ProviderID
	}
	return mustIssueClaims(t, l, c)
}

// mustIssueClaims signs claims with the issuer's key and kid.
func mustIssueClaims(t *testing.T, l *issuer, c jwt.MapClaims) string {
	t.Helper()
	return mustSign(t, jwt.SigningMethodES256, l.key, l.kid, c)
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
