package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apperr"
)

// wantErr asserts err is an *apperr.Error with the code and message, and
// that it does not echo the token.
func wantErr(t *testing.T, err error, code apperr.Code, msg, token string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want %s %q", code, msg)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %T %v is not an *apperr.Error", err, err)
	}
	if got := apperr.CodeOf(err); got != code {
		t.Errorf("code = %s, want %s (%v)", got, code, err)
	}
	if ae.Message != msg {
		t.Errorf("message = %q, want %q", ae.Message, msg)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error echoes the token: %v", err)
	}
}

// onlyIdentChars ends the message refusing an identifier with a bad character.
const onlyIdentChars = "; only lower-case letters, digits, '.', '_' and '-' are allowed"

func TestVerify(t *testing.T) {
	iss := newIssuer(t)
	srv := newJWKSServer(t, iss.Handler())
	v := newVerifier(t, srv.jwksURL())

	other := newIssuer(t) // a different key, never published
	now := time.Now()
	valid := customerClaims()
	provider := with(valid, "role", string(RoleProvider), "tenant_id", nil, "provider_id", "pxc", "sub", "provider:pxc")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		header func(t *testing.T) (header, token string)
		want   Principal
		code   apperr.Code // empty: success
		msg    string
	}{
		{
			name: "valid customer",
			header: bearer(func(t *testing.T) string {
				return mustIssue(t, iss, Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"})
			}),
			want: Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"},
		},
		{
			name: "valid provider",
			header: bearer(func(t *testing.T) string {
				return mustIssue(t, iss, Principal{Role: RoleProvider, Subject: "provider:pxc", ProviderID: "pxc"})
			}),
			want: Principal{Role: RoleProvider, Subject: "provider:pxc", ProviderID: "pxc"},
		},
		{
			name: "scheme is case-insensitive",
			header: func(t *testing.T) (string, string) {
				tok := mustIssueClaims(t, iss, valid)
				return "bearer  " + tok, tok
			},
			want: Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"},
		},
		{
			name:   "provider claims without sub",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(provider, "sub", nil)) }),
			want:   Principal{Role: RoleProvider, ProviderID: "pxc"},
		},
		{
			name: "audience list containing ours",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "aud", []string{"other", testAudience}))
			}),
			want: Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"},
		},
		{
			name: "expired within leeway",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "exp", now.Add(-10*time.Second).Unix()))
			}),
			want: Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"},
		},
		{
			name:   "no kid, published key",
			header: bearer(func(t *testing.T) string { return mustSign(t, jwt.SigningMethodES256, iss.key, "", valid) }),
			want:   Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"},
		},
		{name: "missing header", header: raw(""), code: apperr.Unauthenticated, msg: "missing bearer token"},
		{name: "bearer without token", header: raw("Bearer   "), code: apperr.Unauthenticated, msg: "missing bearer token"},
		{name: "basic scheme", header: raw("Basic YWxpY2U6c2VjcmV0"), code: apperr.Unauthenticated, msg: "authorization scheme must be Bearer"},
		{name: "token without scheme", header: func(t *testing.T) (string, string) {
			tok := mustIssueClaims(t, iss, valid)
			return tok, tok
		}, code: apperr.Unauthenticated, msg: "authorization scheme must be Bearer"},
		{name: "garbage", header: raw("Bearer not-a-jwt"), code: apperr.Unauthenticated, msg: "token malformed"},
		{name: "three garbage segments", header: raw("Bearer a.b.c"), code: apperr.Unauthenticated, msg: "token malformed"},
		{name: "oversized", header: raw("Bearer " + strings.Repeat("a", maxTokenLen+1)), code: apperr.Unauthenticated, msg: "token too large"},
		{name: "two credentials folded into one header", header: func(t *testing.T) (string, string) {
			tok := mustIssueClaims(t, iss, valid)
			return "Bearer " + tok + ", Bearer " + tok, tok
		}, code: apperr.Unauthenticated, msg: "the Authorization header must hold exactly one bearer token"},
		{
			name: "expired",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "exp", now.Add(-2*time.Minute).Unix()))
			}),
			code: apperr.Unauthenticated, msg: "token expired",
		},
		{
			name:   "no exp",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "exp", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks exp claim",
		},
		{
			name: "nbf in the future",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "nbf", now.Add(5*time.Minute).Unix()))
			}),
			code: apperr.Unauthenticated, msg: "token not valid yet",
		},
		{
			name:   "forged with the published kid",
			header: bearer(func(t *testing.T) string { return mustSign(t, jwt.SigningMethodES256, other.key, iss.kid, valid) }),
			code:   apperr.Unauthenticated, msg: "token signature invalid",
		},
		{
			name:   "unknown kid",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, other, valid) }),
			code:   apperr.Unauthenticated, msg: "token signing key not recognised",
		},
		{
			name:   "RS256 with an unpublished key",
			header: bearer(func(t *testing.T) string { return mustSign(t, jwt.SigningMethodRS256, rsaKey, "rsa-unknown", valid) }),
			code:   apperr.Unauthenticated, msg: "token signing key not recognised",
		},
		{
			name:   "RS256 naming the ES256 kid",
			header: bearer(func(t *testing.T) string { return mustSign(t, jwt.SigningMethodRS256, rsaKey, iss.kid, valid) }),
			code:   apperr.Unauthenticated, msg: "token signing key not recognised",
		},
		{
			name:   "wrong issuer",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "iss", "https://evil.test")) }),
			code:   apperr.Unauthenticated, msg: "token issuer not accepted",
		},
		{
			name:   "no issuer",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "iss", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks iss claim",
		},
		{
			name:   "wrong audience",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "aud", "someone-else")) }),
			code:   apperr.Unauthenticated, msg: "token audience not accepted",
		},
		{
			name:   "no audience",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "aud", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks aud claim",
		},
		{
			name: "alg none",
			header: bearer(func(t *testing.T) string {
				return mustSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, iss.kid, valid)
			}),
			code: apperr.Unauthenticated, msg: "token signing algorithm not accepted",
		},
		{
			name: "HS256 with a secret",
			header: bearer(func(t *testing.T) string {
				return mustSign(t, jwt.SigningMethodHS256, []byte("s3cret"), iss.kid, valid)
			}),
			code: apperr.Unauthenticated, msg: "token signing algorithm not accepted",
		},
		{
			name:   "HS256 keyed with the public JWKS",
			header: bearer(func(t *testing.T) string { return mustSign(t, jwt.SigningMethodHS256, iss.JWKS(), iss.kid, valid) }),
			code:   apperr.Unauthenticated, msg: "token signing algorithm not accepted",
		},
		{
			name: "ES384",
			header: bearer(func(t *testing.T) string {
				k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				return mustSign(t, jwt.SigningMethodES384, k, iss.kid, valid)
			}),
			code: apperr.Unauthenticated, msg: "token signing algorithm not accepted",
		},
		{
			name:   "customer without tenant_id",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "tenant_id", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks tenant_id claim",
		},
		{
			name:   "customer with empty tenant_id",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "tenant_id", "")) }),
			code:   apperr.Unauthenticated, msg: "token lacks tenant_id claim",
		},
		{
			name:   "customer without sub",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "sub", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks sub claim",
		},
		{
			name:   "tenant_id with the key delimiter",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "tenant_id", "acme#RELEASED")) }),
			code:   apperr.Unauthenticated, msg: `token tenant_id claim is not a valid identifier: character 5 is '#'` + onlyIdentChars,
		},
		{
			name:   "tenant_id in upper case",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "tenant_id", "Acme")) }),
			code:   apperr.Unauthenticated, msg: "token tenant_id claim is not a valid identifier: character 1 is 'A'" + onlyIdentChars,
		},
		{
			name: "tenant_id too long",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "tenant_id", strings.Repeat("a", 65)))
			}),
			code: apperr.Unauthenticated, msg: "token tenant_id claim is not a valid identifier: it is 65 bytes long; at most 64 are allowed",
		},
		{
			name:   "customer sub with a slash",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "sub", "alice/admin")) }),
			code:   apperr.Unauthenticated, msg: "token sub claim is not a valid identifier: character 6 is '/'" + onlyIdentChars,
		},
		{
			name: "customer sub as a Cognito UUID",
			header: bearer(func(t *testing.T) string {
				return mustIssueClaims(t, iss, with(valid, "sub", "5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10"))
			}),
			want: Principal{Role: RoleCustomerAdmin, Subject: "5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10", TenantID: "acme"},
		},
		{
			name:   "provider_id with the key delimiter",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(provider, "provider_id", "pxc#batch")) }),
			code:   apperr.Unauthenticated, msg: "token provider_id claim is not a valid identifier: character 4 is '#'" + onlyIdentChars,
		},
		{
			name:   "provider_id with a control character",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(provider, "provider_id", "pxc\n")) }),
			code:   apperr.Unauthenticated, msg: "token provider_id claim is not a valid identifier: character 4 is byte 0x0a" + onlyIdentChars,
		},
		{
			name:   "provider without provider_id",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(provider, "provider_id", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks provider_id claim",
		},
		{
			name:   "unknown role",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "role", "superuser")) }),
			code:   apperr.Unauthenticated, msg: "unknown role",
		},
		{
			name:   "no role",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "role", nil)) }),
			code:   apperr.Unauthenticated, msg: "token lacks role claim",
		},
		{
			name:   "role of the wrong type",
			header: bearer(func(t *testing.T) string { return mustIssueClaims(t, iss, with(valid, "role", 7)) }),
			code:   apperr.Unauthenticated, msg: "token malformed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, token := tt.header(t)
			got, err := v.Verify(t.Context(), header)
			if tt.code != "" {
				wantErr(t, err, tt.code, tt.msg, token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Principal = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// bearer builds a "Bearer <token>" header from a token maker.
func bearer(mk func(t *testing.T) string) func(t *testing.T) (string, string) {
	return func(t *testing.T) (string, string) {
		tok := mk(t)
		return "Bearer " + tok, tok
	}
}

// raw uses a literal header value.
func raw(h string) func(t *testing.T) (string, string) {
	return func(*testing.T) (string, string) { return h, "" }
}

func TestVerifyRS256(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := jwkset.NewJWKFromKey(&key.PublicKey, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgRS256, KID: "rsa-1", USE: jwkset.UseSig},
	})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	if err != nil {
		t.Fatal(err)
	}
	srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	v := newVerifier(t, srv.jwksURL())
	claims := with(customerClaims(), "role", string(RoleProvider), "provider_id", "pxc")
	p, err := v.Verify(t.Context(), "Bearer "+mustSign(t, jwt.SigningMethodRS256, key, "rsa-1", claims))
	if err != nil {
		t.Fatalf("Verify RS256: %v", err)
	}
	if p.Role != RoleProvider || p.ProviderID != "pxc" {
		t.Fatalf("Principal = %+v", p)
	}
}

func TestVerifierFetchesLazilyOnce(t *testing.T) {
	iss := newIssuer(t)
	srv := newJWKSServer(t, iss.Handler())
	v := newVerifier(t, srv.jwksURL())
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("NewVerifier made %d JWKS requests, want 0", n)
	}

	// Tokens refused before any key is needed cause no fetch.
	for _, h := range []string{
		"",
		"Bearer junk",
		"Bearer " + mustSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, iss.kid, customerClaims()),
		"Bearer " + mustSign(t, jwt.SigningMethodHS256, []byte("k"), iss.kid, customerClaims()),
	} {
		if _, err := v.Verify(t.Context(), h); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("Verify(%.20q) = %v, want unauthenticated", h, err)
		}
	}
	if n := srv.requests.Load(); n != 0 {
		t.Fatalf("refused tokens made %d JWKS requests, want 0", n)
	}

	// Concurrent first use shares one fetch; later use hits the cache.
	tok := "Bearer " + mustIssue(t, iss, Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Verify: %v", err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1", n)
	}
}

func TestVerifierJWKSUnavailable(t *testing.T) {
	iss := newIssuer(t)
	customer := "Bearer " + mustIssue(t, iss, Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"})

	t.Run("server down", func(t *testing.T) {
		srv := httptest.NewServer(iss.Handler())
		url := srv.URL + iss.JWKSPath()
		srv.Close()
		v := newVerifier(t, url)
		_, err := v.Verify(t.Context(), customer)
		wantErr(t, err, apperr.Unavailable, "token signing keys are unavailable; retry later", "")
	})

	t.Run("failed first fetch is retried", func(t *testing.T) {
		srv := newJWKSServer(t, failing)
		v := newVerifier(t, srv.jwksURL())
		_, err := v.Verify(t.Context(), customer)
		wantErr(t, err, apperr.Unavailable, "token signing keys are unavailable; retry later", "")

		srv.serve(iss.Handler())
		if _, err := v.Verify(t.Context(), customer); err != nil {
			t.Fatalf("Verify after recovery: %v", err)
		}
		if n := srv.requests.Load(); n != 2 {
			t.Fatalf("JWKS requests = %d, want 2", n)
		}
	})

	t.Run("unknown kid while server down", func(t *testing.T) {
		srv := newJWKSServer(t, iss.Handler())
		v := newVerifier(t, srv.jwksURL())
		if _, err := v.Verify(t.Context(), customer); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		srv.serve(failing)
		rotated := newIssuer(t)
		tok := mustIssue(t, rotated, Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"})
		_, err := v.Verify(t.Context(), "Bearer "+tok)
		wantErr(t, err, apperr.Unavailable, "token signing keys are unavailable; retry later", tok)
		// Cached keys keep working while the issuer is down.
		if _, err := v.Verify(t.Context(), customer); err != nil {
			t.Fatalf("Verify with cached key: %v", err)
		}
	})

	t.Run("closed verifier", func(t *testing.T) {
		srv := newJWKSServer(t, iss.Handler())
		v := newVerifier(t, srv.jwksURL())
		v.Close()
		_, err := v.Verify(t.Context(), customer)
		wantErr(t, err, apperr.Unavailable, "token verifier is closed", "")
		if n := srv.requests.Load(); n != 0 {
			t.Fatalf("JWKS requests = %d, want 0", n)
		}
	})
}

func TestVerifierKeyRotation(t *testing.T) {
	first, second := newIssuer(t), newIssuer(t)
	srv := newJWKSServer(t, first.Handler())
	v := newVerifier(t, srv.jwksURL())
	alice := Principal{Role: RoleCustomerAdmin, Subject: "alice", TenantID: "acme"}

	oldTok := "Bearer " + mustIssue(t, first, alice)
	if _, err := v.Verify(t.Context(), oldTok); err != nil {
		t.Fatalf("Verify first key: %v", err)
	}

	srv.serve(second.Handler()) // the issuer rotates its key
	p, err := v.Verify(t.Context(), "Bearer "+mustIssue(t, second, alice))
	if err != nil {
		t.Fatalf("Verify rotated key: %v", err)
	}
	if p != alice {
		t.Fatalf("Principal = %+v, want %+v", p, alice)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d, want 2 (first fetch + unknown-kid refresh)", n)
	}

	// The retired key is gone from the refreshed set, and another unknown
	// kid right away is refused without hitting the issuer (rate limit).
	_, err = v.Verify(t.Context(), oldTok)
	wantErr(t, err, apperr.Unauthenticated, "token signing key not recognised", strings.TrimPrefix(oldTok, "Bearer "))
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("JWKS requests = %d after rate-limited unknown kid, want 2", n)
	}
}

func TestNewVerifierConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"valid", Config{JWKSURL: "https://idp.test/.well-known/jwks.json", Issuer: "i", Audience: "a"}, true},
		{"local http", Config{JWKSURL: "http://localhost:8080/local/jwks.json", Issuer: "i", Audience: "a"}, true},
		{"no url", Config{Issuer: "i", Audience: "a"}, false},
		{"unparsable url", Config{JWKSURL: "http://[::1", Issuer: "i", Audience: "a"}, false},
		{"relative url", Config{JWKSURL: "/local/jwks.json", Issuer: "i", Audience: "a"}, false},
		{"ftp url", Config{JWKSURL: "ftp://idp.test/jwks", Issuer: "i", Audience: "a"}, false},
		{"no issuer", Config{JWKSURL: "https://idp.test/jwks", Audience: "a"}, false},
		{"no audience", Config{JWKSURL: "https://idp.test/jwks", Issuer: "i"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("NewVerifier err = %v, want ok=%v", err, tt.ok)
			}
			if v != nil {
				v.Close()
			}
		})
	}
}
