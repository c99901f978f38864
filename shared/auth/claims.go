package auth

import (
	"errors"
	"fmt"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apperr"
	"numberrelease/shared/ident"
)

// tokenClaims are the claims a Number Release token carries.
type tokenClaims struct {
	jwt.RegisteredClaims
	Role       string `json:"role"`
	TenantID   string `json:"tenant_id"`
	ProviderID string `json:"provider_id"`
}

// principal turns verified claims into a Principal, refusing tokens whose
// role lacks the claim that scopes it, or whose identity claims are not
// identifiers (ident): storage keys are built from them.
func (c *tokenClaims) principal() (Principal, error) {
	switch Role(c.Role) {
	case RoleCustomerAdmin:
		if c.TenantID == "" {
			return Principal{}, unauthenticated("token lacks tenant_id claim")
		}
		if c.Subject == "" {
			return Principal{}, unauthenticated("token lacks sub claim")
		}
		if err := identClaim("tenant_id", c.TenantID); err != nil {
			return Principal{}, err
		}
		if err := identClaim("sub", c.Subject); err != nil {
			return Principal{}, err
		}
		return Principal{Role: RoleCustomerAdmin, Subject: c.Subject, TenantID: c.TenantID}, nil
	case RoleProvider:
		if c.ProviderID == "" {
			return Principal{}, unauthenticated("token lacks provider_id claim")
		}
		if err := identClaim("provider_id", c.ProviderID); err != nil {
			return Principal{}, err
		}
		// A provider's sub (often an OAuth client id) is not part of its
		// identity: nothing is keyed or audited by it, so it is not checked.
		return Principal{Role: RoleProvider, Subject: c.Subject, ProviderID: c.ProviderID}, nil
	case "":
		return Principal{}, unauthenticated("token lacks role claim")
	}
	return Principal{}, unauthenticated("unknown role")
}

// identClaim refuses an identity claim that is not an identifier.
func identClaim(name, value string) error {
	if err := ident.Check(value); err != nil {
		return unauthenticated(fmt.Sprintf("token %s claim is not a valid identifier: %v", name, err))
	}
	return nil
}

// classify maps a parse failure to a caller-safe error. tok and c are what
// the parser returned alongside err (tok may be nil).
func classify(tok *jwt.Token, c *tokenClaims, err error) *apperr.Error {
	var ae *apperr.Error
	if errors.As(err, &ae) { // from our keyfunc: already classified
		return ae
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthenticated("token malformed")
	case tok != nil && !acceptedAlg(tok):
		return unauthenticated("token signing algorithm not accepted")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return unauthenticated("token signature invalid")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return unauthenticated("token signing key not recognised")
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthenticated("token expired")
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return unauthenticated("token not valid yet")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return unauthenticated(missingClaim(c))
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return unauthenticated("token issuer not accepted")
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return unauthenticated("token audience not accepted")
	}
	return unauthenticated("token invalid")
}

// acceptedAlg reports whether the token header names an accepted algorithm.
func acceptedAlg(tok *jwt.Token) bool {
	alg, _ := tok.Header["alg"].(string)
	return slices.Contains(acceptedAlgs, alg)
}

// missingClaim names the required registered claim the token lacks.
func missingClaim(c *tokenClaims) string {
	switch {
	case c.ExpiresAt == nil:
		return "token lacks exp claim"
	case c.Issuer == "":
		return "token lacks iss claim"
	case len(c.Audience) == 0 || slices.Equal(c.Audience, jwt.ClaimStrings{""}):
		return "token lacks aud claim"
	}
	return "token lacks a required claim"
}
