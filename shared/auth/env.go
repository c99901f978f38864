package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Environment variables that name the trusted token issuers.
const (
	// EnvCognitoIssuer and EnvCognitoClientID name an Amazon Cognito user
	// pool (its issuer URL, https://cognito-idp.<region>.amazonaws.com/<pool
	// id>) and the app client whose access tokens are accepted.
	EnvCognitoIssuer   = "COGNITO_ISSUER"
	EnvCognitoClientID = "COGNITO_CLIENT_ID"
	// EnvJWTIssuer, EnvJWKSURL and EnvJWTAudience name an OpenID issuer whose
	// tokens carry flat role, tenant_id and provider_id claims.
	EnvJWTIssuer   = "JWT_ISSUER"
	EnvJWKSURL     = "JWKS_URL"
	EnvJWTAudience = "JWT_AUDIENCE"
)

// ConfigsFromEnv reads the trusted issuers from the environment (lookup is
// os.Getenv in a Lambda): the Cognito pool, the OpenID issuer, or both. A
// half-configured issuer is an error naming what is missing.
func ConfigsFromEnv(lookup func(string) string) ([]Config, error) {
	var cfgs []Config
	pool, client := lookup(EnvCognitoIssuer), lookup(EnvCognitoClientID)
	switch {
	case pool != "" && client != "":
		cfgs = append(cfgs, Config{
			Issuer:          pool,
			JWKSURL:         strings.TrimSuffix(pool, "/") + "/.well-known/jwks.json",
			CognitoClientID: client,
		})
	case pool != "" || client != "":
		return nil, fmt.Errorf("auth: set both %s and %s for a Cognito user pool", EnvCognitoIssuer, EnvCognitoClientID)
	}
	iss, jwks, aud := lookup(EnvJWTIssuer), lookup(EnvJWKSURL), lookup(EnvJWTAudience)
	switch {
	case iss != "" && jwks != "" && aud != "":
		cfgs = append(cfgs, Config{Issuer: iss, JWKSURL: jwks, Audience: aud})
	case iss != "" || jwks != "" || aud != "":
		return nil, fmt.Errorf("auth: set all of %s, %s and %s for an OpenID issuer", EnvJWTIssuer, EnvJWKSURL, EnvJWTAudience)
	}
	if len(cfgs) == 0 {
		return nil, errors.New("auth: no token issuer configured: set " + EnvCognitoIssuer + " and " + EnvCognitoClientID +
			", or " + EnvJWTIssuer + ", " + EnvJWKSURL + " and " + EnvJWTAudience)
	}
	return cfgs, nil
}
