package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apperr"
)

const testClient = "web-client-1"

// cognitoClaims are a valid Cognito access token's claims for alice, an
// admin of acme; tests edit copies.
func cognitoClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":            testIssuer,
		"sub":            "6f1e2d3c-0000-4000-8000-00000000a11c",
		"client_id":      testClient,
		"token_use":      "access",
		"scope":          "openid email",
		"iat":            now.Unix(),
		"exp":            now.Add(time.Hour).Unix(),
		"username":       "alice@acme.example",
		"cognito:groups": []string{"customer_admin:acme"},
	}
}

func TestVerifyCognitoAccessToken(t *testing.T) {
	iss := newIssuer(t)
	srv := newJWKSServer(t, iss.Handler())
	v, err := NewVerifier(Config{JWKSURL: srv.jwksURL(), Issuer: testIssuer, CognitoClientID: testClient})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	sub := "6f1e2d3c-0000-4000-8000-00000000a11c"
	valid := cognitoClaims()

	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   Principal
		msg    string // empty: success
	}{
		{"customer admin", valid, Principal{Role: RoleCustomerAdmin, Subject: sub, TenantID: "acme"}, ""},
		{"provider", with(valid, "cognito:groups", []string{"provider:pxc"}), Principal{Role: RoleProvider, Subject: sub, ProviderID: "pxc"}, ""},
		{"operator", with(valid, "cognito:groups", []string{"operator"}), Principal{Role: RoleOperator, Subject: sub}, ""},
		{"other groups of the pool are ignored", with(valid, "cognito:groups", []string{"billing", "customer_admin:acme"}),
			Principal{Role: RoleCustomerAdmin, Subject: sub, TenantID: "acme"}, ""},
		{"no groups", with(valid, "cognito:groups", nil), Principal{}, "token lacks role claim (no Number Release group in cognito:groups)"},
		{"only foreign groups", with(valid, "cognito:groups", []string{"billing"}), Principal{}, "token lacks role claim (no Number Release group in cognito:groups)"},
		{"two of our groups", with(valid, "cognito:groups", []string{"customer_admin:acme", "provider:pxc"}), Principal{},
			"token carries more than one Number Release group; a user belongs to exactly one"},
		{"empty tenant", with(valid, "cognito:groups", []string{"customer_admin:"}), Principal{}, "token lacks tenant_id claim"},
		{"tenant not an identifier", with(valid, "cognito:groups", []string{"customer_admin:Acme"}), Principal{},
			"token tenant_id claim is not a valid identifier: character 1 is 'A'" + onlyIdentChars},
		{"id token", with(valid, "token_use", "id", "aud", testClient, "client_id", nil), Principal{},
			"token is not an access token (token_use must be access)"},
		{"another client", with(valid, "client_id", "other-client"), Principal{}, "token was issued to another client"},
		{"another pool", with(valid, "iss", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"), Principal{}, "token issuer not accepted"},
		{"expired", with(valid, "exp", time.Now().Add(-time.Hour).Unix()), Principal{}, "token expired"},
		{"flat role claim is not read", with(valid, "cognito:groups", nil, "role", "operator"), Principal{},
			"token lacks role claim (no Number Release group in cognito:groups)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustIssueClaims(t, iss, tt.claims)
			got, err := v.Verify(t.Context(), "Bearer "+tok)
			if tt.msg != "" {
				wantErr(t, err, apperr.Unauthenticated, tt.msg, tok)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("principal = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIssuersChooseByIss(t *testing.T) {
	pool, flat := newIssuer(t), newIssuer(t)
	poolSrv, flatSrv := newJWKSServer(t, pool.Handler()), newJWKSServer(t, flat.Handler())
	const poolIss = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
	is, err := NewIssuers(
		Config{JWKSURL: poolSrv.jwksURL(), Issuer: poolIss, CognitoClientID: testClient},
		Config{JWKSURL: flatSrv.jwksURL(), Issuer: testIssuer, Audience: testAudience},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(is.Close)

	poolTok := mustIssueClaims(t, pool, with(cognitoClaims(), "iss", poolIss))
	flatTok := mustIssue(t, flat, Principal{Role: RoleOperator, Subject: "olive"})
	tests := []struct {
		name  string
		token string
		want  Principal
		msg   string
	}{
		{"pool token", poolTok, Principal{Role: RoleCustomerAdmin, Subject: "6f1e2d3c-0000-4000-8000-00000000a11c", TenantID: "acme"}, ""},
		{"flat token", flatTok, Principal{Role: RoleOperator, Subject: "olive"}, ""},
		{"pool's claims signed by the other issuer's key", mustIssueClaims(t, flat, with(cognitoClaims(), "iss", poolIss)), Principal{},
			"token signing key not recognised"},
		{"unknown issuer", mustIssueClaims(t, pool, with(cognitoClaims(), "iss", "https://elsewhere.test/")), Principal{}, "token issuer not accepted"},
		{"no issuer", mustIssueClaims(t, pool, with(cognitoClaims(), "iss", nil)), Principal{}, "token lacks iss claim"},
		{"garbage", "not.a.jwt", Principal{}, "token malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := is.Verify(t.Context(), "Bearer "+tt.token)
			if tt.msg != "" {
				wantErr(t, err, apperr.Unauthenticated, tt.msg, tt.token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Fatalf("principal = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNewIssuersConfig(t *testing.T) {
	a := Config{JWKSURL: "https://idp.test/jwks", Issuer: "i", Audience: "a"}
	tests := []struct {
		name string
		cfgs []Config
		ok   bool
	}{
		{"one", []Config{a}, true},
		{"none", nil, false},
		{"same issuer twice", []Config{a, a}, false},
		{"both audience and client", []Config{{JWKSURL: "https://idp.test/jwks", Issuer: "i", Audience: "a", CognitoClientID: "c"}}, false},
		{"client only", []Config{{JWKSURL: "https://idp.test/jwks", Issuer: "i", CognitoClientID: "c"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is, err := NewIssuers(tt.cfgs...)
			if (err == nil) != tt.ok {
				t.Fatalf("NewIssuers err = %v, want ok=%v", err, tt.ok)
			}
			if is != nil {
				is.Close()
			}
		})
	}
}

func TestConfigsFromEnv(t *testing.T) {
	const pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
	tests := []struct {
		name string
		env  map[string]string
		want []Config
		ok   bool
	}{
		{"pool", map[string]string{EnvCognitoIssuer: pool, EnvCognitoClientID: "c"},
			[]Config{{Issuer: pool, JWKSURL: pool + "/.well-known/jwks.json", CognitoClientID: "c"}}, true},
		{"openid issuer", map[string]string{EnvJWTIssuer: "https://idp.test/", EnvJWKSURL: "https://idp.test/jwks", EnvJWTAudience: "nr"},
			[]Config{{Issuer: "https://idp.test/", JWKSURL: "https://idp.test/jwks", Audience: "nr"}}, true},
		{"both", map[string]string{EnvCognitoIssuer: pool, EnvCognitoClientID: "c", EnvJWTIssuer: "https://idp.test/", EnvJWKSURL: "https://idp.test/jwks", EnvJWTAudience: "nr"},
			[]Config{{Issuer: pool, JWKSURL: pool + "/.well-known/jwks.json", CognitoClientID: "c"}, {Issuer: "https://idp.test/", JWKSURL: "https://idp.test/jwks", Audience: "nr"}}, true},
		{"none", map[string]string{}, nil, false},
		{"pool without client", map[string]string{EnvCognitoIssuer: pool}, nil, false},
		{"issuer without audience", map[string]string{EnvJWTIssuer: "https://idp.test/", EnvJWKSURL: "https://idp.test/jwks"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigsFromEnv(func(k string) string { return tt.env[k] })
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("configs = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("config %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
