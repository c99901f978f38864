package config

import (
	"slices"
	"strings"
	"testing"
)

// issuer is a complete external issuer for the pages and the API.
var issuer = Identity{
	Issuer:       "https://login.example.com/",
	JWKSURL:      "https://login.example.com/.well-known/jwks.json",
	Audience:     "number-release",
	AuthorizeURL: "https://login.example.com/authorize",
	TokenURL:     "https://login.example.com/oauth/token",
	RevokeURL:    "https://revoke.example.com/oauth/revoke",
	LogoutURL:    "https://login.example.com/v2/logout",
	ClientID:     "pages-client",
	Bearer:       BearerIDToken,
}

func TestValidateFrontDoor(t *testing.T) {
	const cert = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-0123456789ab"
	tests := []struct {
		name    string
		change  func(*StageConfig)
		wantErr []string // nil: valid
	}{
		{"defaults: the front door and the stack's user pool", func(*StageConfig) {}, nil},
		{"custom domain", func(c *StageConfig) { c.DomainName, c.CertificateARN = "numbers.example.com", cert }, nil},
		{"custom domain without a certificate", func(c *StageConfig) { c.DomainName = "numbers.example.com" },
			[]string{`domainName "numbers.example.com" needs certificateArn`, "us-east-1"}},
		{"certificate without a domain", func(c *StageConfig) { c.CertificateARN = cert }, []string{"certificateArn is set without domainName"}},
		{"certificate in another region", func(c *StageConfig) {
			c.DomainName, c.CertificateARN = "numbers.example.com", "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
		}, []string{`the certificate is in "eu-west-1", but CloudFront only uses ACM certificates from us-east-1`}},
		{"certificate of another service", func(c *StageConfig) {
			c.DomainName, c.CertificateARN = "numbers.example.com", "arn:aws:iam::123456789012:server-certificate/x"
		}, []string{"certificateArn", "want arn:aws:acm:us-east-1"}},
		{"certificate with a short account", func(c *StageConfig) {
			c.DomainName, c.CertificateARN = "numbers.example.com", "arn:aws:acm:us-east-1:1234:certificate/abc"
		}, []string{`account "1234"`}},
		{"domain with a scheme", func(c *StageConfig) { c.DomainName, c.CertificateARN = "https://numbers.example.com", cert },
			[]string{`domainName "https://numbers.example.com"`}},
		{"domain in upper case", func(c *StageConfig) { c.DomainName, c.CertificateARN = "Numbers.example.com", cert }, []string{"domainName"}},
		{"domain with a trailing dot", func(c *StageConfig) { c.DomainName, c.CertificateARN = "numbers.example.com.", cert }, []string{"domainName"}},
		{"operator", func(c *StageConfig) { c.OperatorEmail = "olive@ops.example" }, nil},
		{"operator not an email", func(c *StageConfig) { c.OperatorEmail = "olive" }, []string{`operatorEmail "olive"`}},
		{"stage name Cognito refuses", func(c *StageConfig) { c.Stage = "aws-test" }, []string{`stage "aws-test"`, `"aws"`, "identity.issuer"}},
		{"stage name Cognito refuses, external issuer", func(c *StageConfig) { c.Stage, c.Identity = "aws-test", issuer }, nil},
		{"external issuer", func(c *StageConfig) { c.Identity = issuer }, nil},
		{"external issuer without revocation", func(c *StageConfig) { c.Identity = issuer; c.Identity.RevokeURL = "" }, nil},
		{"half an identity block", func(c *StageConfig) { c.Identity = Identity{JWKSURL: issuer.JWKSURL, Bearer: BearerIDToken} },
			[]string{"identity.jwksUrl, identity.bearer set without identity.issuer"}},
		{"external issuer missing everything else", func(c *StageConfig) { c.Identity = Identity{Issuer: issuer.Issuer} },
			[]string{"identity.jwksUrl is required", "identity.audience is required", "identity.authorizeUrl is required",
				"identity.tokenUrl is required", "identity.logoutUrl is required", "identity.clientId is required", `identity.bearer ""`}},
		{"external issuer over http", func(c *StageConfig) { c.Identity = issuer; c.Identity.JWKSURL = "http://login.example.com/jwks" },
			[]string{`identity.jwksUrl "http://login.example.com/jwks": want an https URL`}},
		{"external issuer with a quote", func(c *StageConfig) { c.Identity = issuer; c.Identity.TokenURL = "https://login.example.com/t'x" },
			[]string{"identity.tokenUrl"}},
		{"external issuer with credentials", func(c *StageConfig) { c.Identity = issuer; c.Identity.TokenURL = "https://u:p@login.example.com/t" },
			[]string{"identity.tokenUrl", "credentials"}},
		{"external issuer, bad bearer", func(c *StageConfig) { c.Identity = issuer; c.Identity.Bearer = "refresh_token" },
			[]string{`identity.bearer "refresh_token"`}},
		{"external issuer and an operator", func(c *StageConfig) { c.Identity, c.OperatorEmail = issuer, "olive@ops.example" },
			[]string{"operatorEmail creates a user in the stack's Cognito user pool"}},
		// The LocalStack route: no CloudFront there, the pages elsewhere,
		// the issuer on the host.
		{"no front door", func(c *StageConfig) {
			c.FrontDoor, c.DomainName = false, "localhost"
			c.Identity = Identity{Issuer: "http://localhost:8080/local", JWKSURL: "http://host.docker.internal:8080/local/jwks.json",
				Audience: "number-release", Bearer: BearerAccessToken}
		}, nil},
		{"no front door, Cognito", func(c *StageConfig) { c.FrontDoor, c.DomainName = false, "localhost" },
			[]string{"frontDoor false needs identity.issuer"}},
		{"no front door, no domain", func(c *StageConfig) { c.FrontDoor, c.Identity = false, issuer },
			[]string{"frontDoor false needs domainName"}},
		{"no front door, a certificate", func(c *StageConfig) {
			c.FrontDoor, c.Identity, c.DomainName, c.CertificateARN = false, issuer, "localhost", cert
		},
			[]string{"certificateArn is the front door's certificate, but frontDoor is false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultStage("dev", false)
			tt.change(&c)
			err := c.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC", true},
		{"https://login.example.com:8443/oauth2/token?x=1", true},
		{"http://localhost:8080/local", true},
		{"http://127.0.0.1:8080/local/jwks.json", true},
		{"http://[::1]:8080/local", true},
		{"http://host.docker.internal:8080/local/jwks.json", true},
		{"http://login.example.com/", false},
		{"ftp://login.example.com/", false},
		{"login.example.com/token", false},
		{"https://", false},
		{"https://login.example.com:0/", false},
		{"https://login.example.com:99999/", false},
		{"https://login.example.com/#frag", false},
		{"https://login.example.com/a b", false},
		{"https://login.example.com/a;b", false},
		{"https://login_example.com/", false},
		{"javascript:alert(1)", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if err := checkEndpoint(tt.url); (err == nil) != tt.ok {
				t.Errorf("checkEndpoint(%q) = %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestConnectOrigins(t *testing.T) {
	tests := []struct {
		name string
		id   Identity
		want []string
	}{
		{"token and revoke apart", issuer, []string{"https://login.example.com", "https://revoke.example.com"}},
		{"one origin", Identity{TokenURL: "https://a.example/t", RevokeURL: "https://a.example/r"}, []string{"https://a.example"}},
		{"with a port", Identity{TokenURL: "http://localhost:8080/local/cognito/oauth2/token"}, []string{"http://localhost:8080"}},
		{"none", Identity{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.ConnectOrigins(); !slices.Equal(got, tt.want) {
				t.Errorf("ConnectOrigins() = %v, want %v", got, tt.want)
			}
		})
	}
}

// The stage keys of the front door load from cdk.json's JSON, and unknown
// keys inside "identity" are refused like any other.
func TestLoadFrontDoor(t *testing.T) {
	stages := map[string]any{
		"custom": map[string]any{"domainName": "numbers.example.com", "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/x",
			"operatorEmail": "olive@ops.example"},
		"external": map[string]any{"identity": map[string]any{"issuer": issuer.Issuer, "jwksUrl": issuer.JWKSURL, "audience": issuer.Audience,
			"authorizeUrl": issuer.AuthorizeURL, "tokenUrl": issuer.TokenURL, "revokeUrl": issuer.RevokeURL, "logoutUrl": issuer.LogoutURL,
			"clientId": issuer.ClientID, "bearer": issuer.Bearer}},
		"typo":   map[string]any{"identity": map[string]any{"issuerUrl": "https://x.example/"}},
		"nodoor": map[string]any{"frontDoor": false},
	}
	custom, err := LoadStage("custom", stages)
	if err != nil || custom.DomainName != "numbers.example.com" || custom.CertificateARN == "" || custom.OperatorEmail != "olive@ops.example" ||
		!custom.FrontDoor || custom.Identity.External() {
		t.Errorf("custom = %+v, %v", custom, err)
	}
	external, err := LoadStage("external", stages)
	if err != nil || external.Identity != issuer || external.Validate() != nil {
		t.Errorf("external = %+v, %v (Validate %v)", external.Identity, err, external.Validate())
	}
	if _, err := LoadStage("typo", stages); err == nil || !strings.Contains(err.Error(), "issuerUrl") {
		t.Errorf("typo: %v, want the unknown key named", err)
	}
	if nodoor, err := LoadStage("nodoor", stages); err != nil || nodoor.FrontDoor {
		t.Errorf("nodoor = %+v, %v", nodoor, err)
	}
}

func TestValidHostname(t *testing.T) {
	for s, want := range map[string]bool{
		"numbers.example.com": true, "localhost": true, "a-b.example": true, "x1.example": true,
		"": false, ".example": false, "a..example": false, "-a.example": false, "a-.example": false,
		"A.example": false, "a_b.example": false, strings.Repeat("a", 64) + ".example": false,
		strings.Repeat("a.", 127) + "a": false, strings.Repeat("a.", 126) + "a": true,
	} {
		if got := validHostname(s); got != want {
			t.Errorf("validHostname(%q) = %v, want %v", s, got, want)
		}
	}
}
