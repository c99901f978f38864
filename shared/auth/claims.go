package auth

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apperr"
	"numberrelease/shared/ident"
	"numberrelease/shared/userpool"
)

// tokenClaims are the claims a Number Release token carries: flat claims
// (role, tenant_id, provider_id) from an OpenID issuer, or an Amazon Cognito
// access token's client_id, token_use and groups.
type tokenClaims struct {
	jwt.RegisteredClaims
	Role       string `json:"role"`
	TenantID   string `json:"tenant_id"`
	ProviderID string `json:"provider_id"`

	TokenUse string   `json:"token_use"`
	ClientID string   `json:"client_id"`
	Groups   []string `json:"cognito:groups"`
}

// Cognito group names that carry a role (package userpool). A user belongs
// to exactly one of them; the pool's other groups are not ours and are
// ignored.
const (
	groupOperator            = userpool.OperatorGroup
	groupCustomerAdminPrefix = userpool.CustomerAdminGroupPrefix
	groupProviderPrefix      = userpool.ProviderGroupPrefix
)

// cognitoPrincipal checks a Cognito access token (the signature, issuer and
// expiry are already verified) and reads the caller from its one Number
// Release group: "customer_admin:<tenant_id>", "provider:<provider_id>" or
// "operator". Groups, unlike custom attributes, are set by administrators
// only and are carried in access tokens.
func (c *tokenClaims) cognitoPrincipal(clientID string) (Principal, error) {
	switch {
	case c.TokenUse != "access":
		return Principal{}, unauthenticated("token is not an access token (token_use must be access)")
	case c.ClientID != clientID:
		return Principal{}, unauthenticated("token was issued to another client")
	}
	var found []string
	for _, g := range c.Groups {
		if g == groupOperator || strings.HasPrefix(g, groupCustomerAdminPrefix) || strings.HasPrefix(g, groupProviderPrefix) {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return Principal{}, unauthenticated("token lacks role claim (no Number Release group in cognito:groups)")
	case 1:
	default:
		return Principal{}, unauthenticated("token carries more than one Number Release group; a user belongs to exactly one")
	}
	flat := tokenClaims{RegisteredClaims: c.RegisteredClaims}
	switch g := found[0]; {
	case g == groupOperator:
		flat.Role = string(RoleOperator)
	case strings.HasPrefix(g, groupCustomerAdminPrefix):
		flat.Role, flat.TenantID = string(RoleCustomerAdmin), strings.TrimPrefix(g, groupCustomerAdminPrefix)
	default:
		flat.Role, flat.ProviderID = string(RoleProvider), strings.TrimPrefix(g, groupProviderPrefix)
	}
	return flat.principal()
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
	case RoleOperator:
		// An operator acts for no tenant: the person is the whole identity.
		if c.Subject == "" {
			return Principal{}, unauthenticated("token lacks sub claim")
		}
		if err := identClaim("sub", c.Subject); err != nil {
			return Principal{}, err
		}
		return Principal{Role: RoleOperator, Subject: c.Subject}, nil
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
