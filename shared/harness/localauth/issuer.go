// Package localauth is the local token issuer of the harness (`make run`,
// the tests, the LocalStack route): it mints ES256 tokens for any tenant or
// provider and serves its public JWK Set, so the API's real verifier
// (package auth) checks them as it checks an identity provider's. It must
// never be wired into a deployed service.
package localauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/auth"
	"numberrelease/shared/ident"
)

// Paths served by Issuer.Handler.
const (
	JWKSPath  = "/local/jwks.json"
	TokenPath = "/local/token"
)

// Issuer mints ES256 tokens for local mode and tests. It holds a fresh
// P-256 key with a random kid, made when it is created and never persisted.
type Issuer struct {
	issuer   string
	audience string
	kid      string
	key      *ecdsa.PrivateKey
	jwks     []byte
}

// New creates an issuer whose tokens carry iss=issuerURL and aud=audience.
func New(issuerURL, audience string) (*Issuer, error) {
	if issuerURL == "" {
		return nil, errors.New("local issuer: issuer URL is required")
	}
	if audience == "" {
		return nil, errors.New("local issuer: audience is required")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("local issuer: generate key: %w", err)
	}
	kid := rand.Text()
	jwks, err := publicJWKS(&key.PublicKey, kid)
	if err != nil {
		return nil, fmt.Errorf("local issuer: %w", err)
	}
	return &Issuer{issuer: issuerURL, audience: audience, kid: kid, key: key, jwks: jwks}, nil
}

// publicJWKS renders a one-key public JWK Set (RFC 7517) for an ES256 key.
func publicJWKS(pub *ecdsa.PublicKey, kid string) ([]byte, error) {
	jwk, err := jwkset.NewJWKFromKey(pub, jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: jwkset.AlgES256, KID: kid, USE: jwkset.UseSig},
	})
	if err != nil {
		return nil, fmt.Errorf("build jwk: %w", err)
	}
	b, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	if err != nil {
		return nil, fmt.Errorf("marshal jwks: %w", err)
	}
	return b, nil
}

// Issuer is the "iss" of the tokens this issuer signs.
func (l *Issuer) Issuer() string { return l.issuer }

// Audience is the "aud" of the tokens this issuer signs.
func (l *Issuer) Audience() string { return l.audience }

// JWKSPath is the path, relative to the base URL its Handler is mounted at,
// that serves the public JWK Set: the JWKS URL is base + JWKSPath().
func (l *Issuer) JWKSPath() string { return JWKSPath }

// Issue signs a token for p that is valid from now for ttl. It refuses
// identity fields the Verifier would refuse (see package ident).
func (l *Issuer) Issue(p auth.Principal, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("local issuer: ttl must be positive")
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"iss":  l.issuer,
		"aud":  l.audience,
		"sub":  p.Subject,
		"iat":  now.Unix(),
		"nbf":  now.Unix(),
		"exp":  now.Add(ttl).Unix(),
		"role": string(p.Role),
	}
	switch p.Role {
	case auth.RoleCustomerAdmin:
		if p.TenantID == "" || p.Subject == "" {
			return "", errors.New("local issuer: customer_admin needs tenant id and subject")
		}
		if err := ident.Check(p.TenantID); err != nil {
			return "", fmt.Errorf("local issuer: tenant id is not a valid identifier: %w", err)
		}
		if err := ident.Check(p.Subject); err != nil {
			return "", fmt.Errorf("local issuer: subject is not a valid identifier: %w", err)
		}
		claims["tenant_id"] = p.TenantID
	case auth.RoleProvider:
		if p.ProviderID == "" {
			return "", errors.New("local issuer: provider needs provider id")
		}
		if err := ident.Check(p.ProviderID); err != nil {
			return "", fmt.Errorf("local issuer: provider id is not a valid identifier: %w", err)
		}
		claims["provider_id"] = p.ProviderID
	case auth.RoleOperator:
		if err := ident.Check(p.Subject); err != nil {
			return "", fmt.Errorf("local issuer: operator subject is not a valid identifier: %w", err)
		}
	default:
		return "", fmt.Errorf("local issuer: unknown role %q", p.Role)
	}
	return l.IssueClaims(claims)
}

// IssueClaims signs arbitrary claims with the issuer's key and kid. Tests use
// it to craft tokens the Verifier must refuse.
func (l *Issuer) IssueClaims(claims jwt.MapClaims) (string, error) {
	if claims == nil {
		return "", errors.New("local issuer: claims are required")
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = l.kid
	s, err := tok.SignedString(l.key)
	if err != nil {
		return "", fmt.Errorf("local issuer: sign token: %w", err)
	}
	return s, nil
}
