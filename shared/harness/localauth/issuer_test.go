package localauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/jwkset"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
)

const (
	testIssuer   = "https://issuer.test"
	testAudience = "number-release"
)

func newIssuer(t *testing.T) *Issuer {
	t.Helper()
	l, err := New(testIssuer, testAudience)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// serve serves the issuer's handler over HTTP for the test.
func serve(t *testing.T, iss *Issuer) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(iss.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestJWKS(t *testing.T) {
	iss := newIssuer(t)
	srv := serve(t, iss)

	resp, err := http.Get(srv.URL + iss.JWKSPath())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET jwks: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set jwkset.JWKSMarshal
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 1 {
		t.Fatalf("keys = %d, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.KTY != jwkset.KtyEC || k.CRV != jwkset.CrvP256 || k.ALG != jwkset.AlgES256 || k.USE != jwkset.UseSig || k.KID != iss.kid || k.X == "" || k.Y == "" {
		t.Fatalf("jwk = %+v", k)
	}
	if k.D != "" {
		t.Fatal("JWKS leaks the private key")
	}
	if iss.Issuer() != testIssuer || iss.Audience() != testAudience {
		t.Fatalf("getters = %q %q", iss.Issuer(), iss.Audience())
	}
}

func TestNewKeysDiffer(t *testing.T) {
	a, b := newIssuer(t), newIssuer(t)
	if a.kid == b.kid || a.key.Equal(b.key) {
		t.Fatal("two issuers share a kid or key")
	}
	if _, err := New("", "aud"); err == nil {
		t.Fatal("empty issuer accepted")
	}
	if _, err := New("iss", ""); err == nil {
		t.Fatal("empty audience accepted")
	}
}

func TestIssue(t *testing.T) {
	iss := newIssuer(t)
	tests := []struct {
		name string
		p    auth.Principal
		ttl  time.Duration
	}{
		{"zero ttl", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc"}, 0},
		{"customer without tenant", auth.Principal{Role: auth.RoleCustomerAdmin, Subject: "alice"}, time.Hour},
		{"customer without subject", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme"}, time.Hour},
		{"provider without id", auth.Principal{Role: auth.RoleProvider}, time.Hour},
		{"tenant with the key delimiter", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme#RELEASED", Subject: "alice"}, time.Hour},
		{"subject not an identifier", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "Alice Smith"}, time.Hour},
		{"provider with the key delimiter", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc#batch"}, time.Hour},
		{"unknown role", auth.Principal{Role: "root", Subject: "x"}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := iss.Issue(tt.p, tt.ttl); err == nil {
				t.Fatal("Issue succeeded")
			}
		})
	}
}

// postToken calls POST /local/token and returns status, content type and body.
func postToken(t *testing.T, url, body string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func TestLocalTokenEndpoint(t *testing.T) {
	iss := newIssuer(t)
	srv := serve(t, iss)
	v, err := auth.NewVerifier(auth.Config{JWKSURL: srv.URL + JWKSPath, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	tokenURL := srv.URL + TokenPath

	t.Run("good", func(t *testing.T) {
		tests := []struct {
			name string
			body string
			want auth.Principal
		}{
			{"customer", `{"kind":"customer","tenant_id":"acme","sub":"alice"}`, auth.Principal{Role: auth.RoleCustomerAdmin, Subject: "alice", TenantID: "acme"}},
			{"customer default sub", `{"kind":"customer","tenant_id":"globex"}`, auth.Principal{Role: auth.RoleCustomerAdmin, Subject: "local-admin", TenantID: "globex"}},
			{"provider", `{"kind":"provider","provider_id":"pxc"}`, auth.Principal{Role: auth.RoleProvider, Subject: "provider:pxc", ProviderID: "pxc"}},
			{"provider with sub", `{"kind":"provider","provider_id":"pxc","sub":"ops-bot"}`, auth.Principal{Role: auth.RoleProvider, Subject: "ops-bot", ProviderID: "pxc"}},
			{"operator", `{"kind":"operator","sub":"olive"}`, auth.Principal{Role: auth.RoleOperator, Subject: "olive"}},
			{"extra fields ignored", `{"kind":"provider","provider_id":"other","tenant_id":"acme"}`, auth.Principal{Role: auth.RoleProvider, Subject: "provider:other", ProviderID: "other"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, ctype, body := postToken(t, tokenURL, tt.body)
				if status != http.StatusOK || ctype != "application/json" {
					t.Fatalf("status %d %q: %s", status, ctype, body)
				}
				var resp struct {
					AccessToken string `json:"access_token"`
					TokenType   string `json:"token_type"`
					ExpiresIn   int    `json:"expires_in"`
				}
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatal(err)
				}
				if resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 || resp.AccessToken == "" {
					t.Fatalf("response = %s", body)
				}
				p, err := v.Verify(context.Background(), resp.TokenType+" "+resp.AccessToken)
				if err != nil {
					t.Fatalf("Verify minted token: %v", err)
				}
				if p != tt.want {
					t.Fatalf("auth.Principal = %+v, want %+v", p, tt.want)
				}
			})
		}
	})

	t.Run("bad", func(t *testing.T) {
		tests := []struct {
			name, body string
			status     int
			detail     string // substring the problem detail must contain
		}{
			{"malformed json", `{"kind":`, http.StatusBadRequest, "not valid JSON"},
			{"empty body", ``, http.StatusBadRequest, "kind"},
			{"array body", `[1]`, http.StatusBadRequest, "JSON object"},
			{"trailing data", `{"kind":"provider","provider_id":"pxc"} {}`, http.StatusBadRequest, "not valid JSON"},
			{"missing kind", `{"tenant_id":"acme"}`, http.StatusBadRequest, "kind"},
			{"unknown kind", `{"kind":"admin","tenant_id":"acme"}`, http.StatusBadRequest, "kind"},
			{"kind not a string", `{"kind":1}`, http.StatusBadRequest, "kind"},
			{"customer without tenant_id", `{"kind":"customer","sub":"alice"}`, http.StatusBadRequest, "tenant_id"},
			{"customer blank tenant_id", `{"kind":"customer","tenant_id":"  "}`, http.StatusBadRequest, "tenant_id"},
			{"tenant_id not a string", `{"kind":"customer","tenant_id":5}`, http.StatusBadRequest, "tenant_id"},
			{"provider without provider_id", `{"kind":"provider"}`, http.StatusBadRequest, "provider_id"},
			{"operator without sub", `{"kind":"operator"}`, http.StatusBadRequest, "sub is required for kind operator"},
			{"operator sub not an identifier", `{"kind":"operator","sub":"Olive"}`, http.StatusBadRequest, "sub is not a valid identifier"},
			{"tenant_id with the key delimiter", `{"kind":"customer","tenant_id":"acme#RELEASED","sub":"alice"}`, http.StatusBadRequest, "tenant_id is not a valid identifier: character 5 is '#'"},
			{"tenant_id in upper case", `{"kind":"customer","tenant_id":"ACME"}`, http.StatusBadRequest, "tenant_id is not a valid identifier"},
			{"tenant_id with spaces around", `{"kind":"customer","tenant_id":" acme "}`, http.StatusBadRequest, "tenant_id is not a valid identifier"},
			{"sub with a slash", `{"kind":"customer","tenant_id":"acme","sub":"alice/root"}`, http.StatusBadRequest, "sub is not a valid identifier"},
			{"provider_id with the key delimiter", `{"kind":"provider","provider_id":"pxc#batch"}`, http.StatusBadRequest, "provider_id is not a valid identifier"},
			{"provider_id too long", `{"kind":"provider","provider_id":"` + strings.Repeat("p", 65) + `"}`, http.StatusBadRequest, "provider_id is not a valid identifier: it is 65 bytes long"},
			{"too large", `{"kind":"customer","tenant_id":"` + strings.Repeat("a", maxTokenRequestBody) + `"}`, http.StatusRequestEntityTooLarge, "65536"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				status, ctype, body := postToken(t, tokenURL, tt.body)
				if status != tt.status || ctype != apperr.ContentType {
					t.Fatalf("status %d %q, want %d problem: %s", status, ctype, tt.status, body)
				}
				var prob map[string]any
				if err := json.Unmarshal(body, &prob); err != nil {
					t.Fatalf("problem body: %v: %s", err, body)
				}
				detail, _ := prob["detail"].(string)
				if !strings.Contains(detail, tt.detail) {
					t.Fatalf("detail %q does not name %q", detail, tt.detail)
				}
				if prob["status"] != float64(tt.status) {
					t.Fatalf("problem status = %v", prob["status"])
				}
			})
		}
	})

	t.Run("routing", func(t *testing.T) {
		tests := []struct {
			method, path string
			status       int
			allow        string
		}{
			{http.MethodGet, "/local/token", http.StatusMethodNotAllowed, "POST"},
			{http.MethodPost, "/local/jwks.json", http.StatusMethodNotAllowed, "GET"},
			{http.MethodGet, "/local/nope", http.StatusNotFound, ""},
		}
		for _, tt := range tests {
			t.Run(tt.method+" "+tt.path, func(t *testing.T) {
				req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow || resp.Header.Get("Content-Type") != apperr.ContentType {
					t.Fatalf("got %d allow=%q ctype=%q", resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"))
				}
			})
		}
	})
}
