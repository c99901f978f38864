package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Issuers trusts several token issuers at once, each with its own keys,
// audience and claim shape (for example the stack's Cognito user pool and an
// OpenID issuer for carriers' systems). A token goes to the Verifier of its
// "iss"; the claim is only read to choose, and that Verifier checks it again
// with everything else.
type Issuers struct {
	byIssuer map[string]*Verifier
}

// NewIssuers builds one Verifier per configuration. Two configurations may
// not name the same issuer.
func NewIssuers(cfgs ...Config) (*Issuers, error) {
	if len(cfgs) == 0 {
		return nil, errors.New("auth: at least one token issuer is required")
	}
	is := &Issuers{byIssuer: make(map[string]*Verifier, len(cfgs))}
	for _, cfg := range cfgs {
		if _, dup := is.byIssuer[cfg.Issuer]; dup {
			is.Close()
			return nil, fmt.Errorf("auth: issuer %q is configured twice", cfg.Issuer)
		}
		v, err := NewVerifier(cfg)
		if err != nil {
			is.Close()
			return nil, err
		}
		is.byIssuer[cfg.Issuer] = v
	}
	return is, nil
}

// Verify checks the Authorization header value with the Verifier of the
// token's issuer. Failures are as Verifier.Verify's; a token from an issuer
// not configured is refused as "token issuer not accepted".
func (is *Issuers) Verify(ctx context.Context, authorizationHeader string) (Principal, error) {
	raw, err := bearerToken(authorizationHeader)
	if err != nil {
		return Principal{}, err
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &c); err != nil {
		return Principal{}, unauthenticated("token malformed")
	}
	if c.Issuer == "" {
		return Principal{}, unauthenticated("token lacks iss claim")
	}
	v, ok := is.byIssuer[c.Issuer]
	if !ok {
		return Principal{}, unauthenticated("token issuer not accepted")
	}
	return v.verify(ctx, raw)
}

// Close stops every Verifier's background JWKS refresh.
func (is *Issuers) Close() {
	for _, v := range is.byIssuer {
		v.Close()
	}
}
