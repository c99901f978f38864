package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Identity is an external OpenID Connect issuer a stage trusts instead of
// the stack's own Amazon Cognito user pool (cdk.json's stage key
// "identity"). Issuer empty means no external issuer: every other field
// must then be empty too.
//
// The API verifies the issuer's tokens (Issuer, JWKSURL, Audience: the
// api function's JWT_ISSUER, JWKS_URL and JWT_AUDIENCE); the pages sign in
// with the authorization code flow and PKCE against its endpoints
// (AuthorizeURL, TokenURL, RevokeURL, LogoutURL, ClientID), and send the
// token of the token response that Bearer names to the API.
type Identity struct {
	// Issuer is the exact "iss" of the tokens.
	Issuer string `json:"issuer"`
	// JWKSURL is the issuer's JSON Web Key Set, reachable from Lambda.
	JWKSURL string `json:"jwksUrl"`
	// Audience is a value the tokens' "aud" must contain.
	Audience string `json:"audience"`
	// AuthorizeURL, TokenURL, RevokeURL (optional) and LogoutURL are the
	// issuer's endpoints the pages use; ClientID is the public client
	// (no secret) registered for them, with the redirect URIs
	// https://<domain>/ and https://<domain>/portal.
	AuthorizeURL string `json:"authorizeUrl"`
	TokenURL     string `json:"tokenUrl"`
	RevokeURL    string `json:"revokeUrl"`
	LogoutURL    string `json:"logoutUrl"`
	ClientID     string `json:"clientId"`
	// Bearer names the token of the token response the pages send to the
	// API: BearerAccessToken or BearerIDToken.
	Bearer string `json:"bearer"`
}

// The tokens of a token response the pages may send to the API.
const (
	BearerAccessToken = "access_token"
	BearerIDToken     = "id_token"
)

// CertificateRegion is the only region whose ACM certificates CloudFront
// can use.
const CertificateRegion = "us-east-1"

// External reports whether the stage trusts an external issuer instead of
// the stack's Cognito user pool.
func (i Identity) External() bool { return i.Issuer != "" }

// ConnectOrigins are the origins (scheme://host[:port]) the pages call with
// fetch for an external issuer: the token and revoke endpoints', each once,
// in that order. The pages' Content-Security-Policy (connect-src) allows
// them.
func (i Identity) ConnectOrigins() []string {
	var out []string
	for _, raw := range []string{i.TokenURL, i.RevokeURL} {
		u, err := url.Parse(raw)
		if raw == "" || err != nil {
			continue
		}
		if o := u.Scheme + "://" + u.Host; !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// cognitoReserved are the words Cognito refuses in a domain prefix; the
// stack's prefix (numberrelease-<stage>-<account>) holds the stage's name.
var cognitoReserved = []string{"aws", "amazon", "cognito"}

// validateFrontDoor reports every bad front door and identity setting,
// each naming its key.
func (c StageConfig) validateFrontDoor() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.DomainName != "" && !validHostname(c.DomainName) {
		bad("domainName %q: want a host name such as numbers.example.com (lower-case letters, digits, '-' and '.', no scheme or path)", c.DomainName)
	}
	switch {
	case !c.FrontDoor && c.CertificateARN != "":
		bad("certificateArn is the front door's certificate, but frontDoor is false: remove it")
	case c.FrontDoor && c.DomainName != "" && c.CertificateARN == "":
		bad("domainName %q needs certificateArn, an ACM certificate for it in %s (CloudFront's region)", c.DomainName, CertificateRegion)
	case c.CertificateARN != "" && c.DomainName == "":
		bad("certificateArn is set without domainName: name the domain the certificate is for")
	}
	if c.CertificateARN != "" {
		if err := checkCertificateARN(c.CertificateARN); err != nil {
			bad("certificateArn %q: %w", c.CertificateARN, err)
		}
	}
	if !c.FrontDoor {
		if !c.Identity.External() {
			bad("frontDoor false needs identity.issuer: the stack's Cognito user pool signs users in through the front door's URLs")
		}
		if c.DomainName == "" {
			bad("frontDoor false needs domainName: the host serving the pages, whose https://<domainName>/ Zoom sends the customer's admin back to")
		}
	}
	if c.OperatorEmail != "" && !looksLikeEmail(c.OperatorEmail) {
		bad("operatorEmail %q is not an email address", c.OperatorEmail)
	}
	if c.Identity.External() {
		return append(errs, c.validateIssuer()...)
	}
	if set := c.Identity.setFields(); len(set) > 0 {
		bad("identity.%s set without identity.issuer: set the issuer to trust an external OpenID Connect issuer, "+
			"or leave the whole block empty for the stack's Cognito user pool", strings.Join(set, ", identity."))
	}
	for _, w := range cognitoReserved {
		if strings.Contains(c.Stage, w) {
			bad("stage %q: the Cognito sign-in domain prefix numberrelease-<stage>-<account> holds the stage's name, and Cognito refuses %q in it; "+
				"rename the stage or set identity.issuer", c.Stage, w)
		}
	}
	return errs
}

// validateIssuer checks an external issuer's settings.
func (c StageConfig) validateIssuer() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	id := c.Identity
	urls := []struct {
		key, value string
		required   bool
	}{
		{"issuer", id.Issuer, true},
		{"jwksUrl", id.JWKSURL, true},
		// The pages' endpoints: only where the stack serves the pages.
		{"authorizeUrl", id.AuthorizeURL, c.FrontDoor},
		{"tokenUrl", id.TokenURL, c.FrontDoor},
		{"revokeUrl", id.RevokeURL, false},
		{"logoutUrl", id.LogoutURL, c.FrontDoor},
	}
	for _, u := range urls {
		switch {
		case u.value == "" && u.required:
			bad("identity.%s is required with identity.issuer", u.key)
		case u.value != "":
			if err := checkEndpoint(u.value); err != nil {
				bad("identity.%s %q: %w", u.key, u.value, err)
			}
		}
	}
	if strings.TrimSpace(id.Audience) == "" {
		bad("identity.audience is required with identity.issuer: a value the tokens' aud must contain")
	}
	if c.FrontDoor && strings.TrimSpace(id.ClientID) == "" {
		bad("identity.clientId is required with identity.issuer: the issuer's public client the pages sign in with")
	}
	if id.Bearer != BearerAccessToken && id.Bearer != BearerIDToken {
		bad("identity.bearer %q: want %s or %s, the token of the token response the pages send to the API", id.Bearer, BearerAccessToken, BearerIDToken)
	}
	if c.OperatorEmail != "" {
		bad("operatorEmail creates a user in the stack's Cognito user pool, which a stage with identity.issuer does not have: " +
			"create the operator at the issuer")
	}
	return errs
}

// setFields names the JSON keys of the fields that are set.
func (i Identity) setFields() []string {
	var out []string
	for _, f := range []struct{ key, value string }{
		{"issuer", i.Issuer}, {"jwksUrl", i.JWKSURL}, {"audience", i.Audience}, {"authorizeUrl", i.AuthorizeURL},
		{"tokenUrl", i.TokenURL}, {"revokeUrl", i.RevokeURL}, {"logoutUrl", i.LogoutURL}, {"clientId", i.ClientID}, {"bearer", i.Bearer},
	} {
		if f.value != "" {
			out = append(out, f.key)
		}
	}
	return out
}

// localHosts may be reached over plain http: an issuer on this machine or
// on the emulator's host (the LocalStack route's `make run`).
var localHosts = []string{"localhost", "127.0.0.1", "::1", "host.docker.internal"}

// checkEndpoint checks that s is an absolute https URL (http only for
// localHosts) with a plain host name, no credentials and no fragment.
func checkEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "http" && slices.Contains(localHosts, host):
	case u.Scheme != "https":
		return fmt.Errorf("want an https URL (http only for %s)", strings.Join(localHosts, ", "))
	}
	if host != "::1" && !validHostname(strings.ToLower(host)) {
		return fmt.Errorf("host %q: want a host name", u.Host)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q: want 1 to 65535", p)
		}
	}
	if u.User != nil || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(s, " \t\r\n'\";,") {
		return fmt.Errorf("want scheme://host/path, without credentials, fragment, spaces, quotes, ';' or ','")
	}
	return nil
}

// validHostname reports whether s is a lower-case DNS host name: labels of
// 1 to 63 letters, digits and '-' (not at either end), joined by '.', 253
// characters at most.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}

// checkCertificateARN checks that s is an ACM certificate's ARN in
// CertificateRegion: arn:<partition>:acm:us-east-1:<account>:certificate/<id>.
func checkCertificateARN(s string) error {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm" || !strings.HasPrefix(parts[5], "certificate/") || len(parts[5]) == len("certificate/") {
		return fmt.Errorf("want arn:aws:acm:%s:<account>:certificate/<id>", CertificateRegion)
	}
	if account := parts[4]; len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return fmt.Errorf("account %q: want 12 digits", account)
	}
	if region := parts[3]; region != CertificateRegion {
		return fmt.Errorf("the certificate is in %q, but CloudFront only uses ACM certificates from %s: request or import it in %s", region, CertificateRegion, CertificateRegion)
	}
	return nil
}
