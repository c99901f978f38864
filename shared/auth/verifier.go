package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"numberrelease/shared/apperr"
)

// Tunables of token verification.
const (
	// leeway absorbs clock skew between the issuer and us for exp and nbf.
	leeway = 30 * time.Second
	// jwksTimeout bounds one JWKS fetch, including the lazy first one.
	jwksTimeout = 5 * time.Second
	// jwksRefreshInterval is how often the cached JWKS is refreshed in the
	// background once it has been fetched.
	jwksRefreshInterval = time.Hour
	// unknownKIDRefreshEvery rate-limits the refreshes that a token with an
	// unknown kid triggers, so random kids cannot hammer the issuer.
	unknownKIDRefreshEvery = time.Minute
	// maxTokenLen refuses absurd tokens before any parsing work.
	maxTokenLen = 16 << 10
)

// acceptedAlgs are the only signing algorithms a token may use.
var acceptedAlgs = []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}

// Config configures a Verifier.
type Config struct {
	// JWKSURL is where the issuer publishes its JSON Web Key Set.
	JWKSURL string
	// Issuer is the exact "iss" a token must carry.
	Issuer string
	// Audience must be one of the token's "aud" values (an OpenID issuer's
	// tokens with flat role, tenant_id and provider_id claims).
	Audience string
	// CognitoClientID, instead of Audience, makes the issuer an Amazon
	// Cognito user pool: tokens must be access tokens (token_use "access")
	// issued to this app client (client_id; Cognito access tokens carry no
	// aud), and the caller's role comes from its cognito:groups.
	CognitoClientID string
	// HTTPClient fetches the JWKS; optional. Without one, a client with a
	// short timeout is used.
	HTTPClient *http.Client
}

// Verifier checks bearer JWTs against an issuer's JWKS and turns them into
// Principals. It is safe for concurrent use. Construction is cheap: the JWKS
// is fetched on the first Verify that needs a key, then cached and refreshed
// in the background; a token whose kid is unknown triggers a rate-limited
// refresh so that key rotation needs no restart.
type Verifier struct {
	jwksURL string
	client  *http.Client
	parser  *jwt.Parser
	// cognitoClient is Config.CognitoClientID ("" for flat claims).
	cognitoClient string

	// ctx bounds the background refresh; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// initSem serialises the lazy first fetch (capacity 1).
	initSem chan struct{}
	// kf is the loaded key source; nil until a first fetch succeeds.
	kf atomic.Pointer[keyfunc.Keyfunc]
	// refreshFailures counts failed JWKS refreshes, to tell "unknown kid"
	// from "could not ask the issuer about that kid".
	refreshFailures atomic.Uint64
}

// NewVerifier validates cfg and returns a Verifier. It makes no network
// request.
func NewVerifier(cfg Config) (*Verifier, error) {
	if cfg.JWKSURL == "" {
		return nil, errors.New("auth: JWKS URL is required")
	}
	u, err := url.Parse(cfg.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("auth: parse JWKS URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("auth: JWKS URL %q must be an absolute http(s) URL", cfg.JWKSURL)
	}
	if cfg.Issuer == "" {
		return nil, errors.New("auth: issuer is required")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(acceptedAlgs),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	}
	switch {
	case cfg.Audience != "" && cfg.CognitoClientID != "":
		return nil, errors.New("auth: set either an audience or a Cognito app client id, not both")
	case cfg.Audience != "":
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	case cfg.CognitoClientID == "":
		return nil, errors.New("auth: an audience (or a Cognito app client id) is required")
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Verifier{
		jwksURL:       cfg.JWKSURL,
		client:        client,
		parser:        jwt.NewParser(opts...),
		cognitoClient: cfg.CognitoClientID,
		ctx:           ctx,
		cancel:        cancel,
		initSem:       make(chan struct{}, 1),
	}, nil
}

// Close stops the background JWKS refresh. Keys already cached stay usable.
func (v *Verifier) Close() { v.cancel() }

// Verify checks the raw Authorization header value ("Bearer <jwt>") and
// returns the caller it proves. Every failure is an *apperr.Error: code
// Unauthenticated with a caller-safe message that never echoes the token, or
// Unavailable when the issuer's keys cannot be fetched.
func (v *Verifier) Verify(ctx context.Context, authorizationHeader string) (Principal, error) {
	raw, err := bearerToken(authorizationHeader)
	if err != nil {
		return Principal{}, err
	}
	return v.verify(ctx, raw)
}

// verify checks a bare token.
func (v *Verifier) verify(ctx context.Context, raw string) (Principal, error) {
	var c tokenClaims
	tok, err := v.parser.ParseWithClaims(raw, &c, v.keyfunc(ctx))
	if err != nil {
		return Principal{}, classify(tok, &c, err)
	}
	if v.cognitoClient != "" {
		return c.cognitoPrincipal(v.cognitoClient)
	}
	return c.principal()
}

// bearerToken extracts the token from an Authorization header value. The
// scheme is matched case-insensitively (RFC 9110 §11.1).
func bearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", unauthenticated("missing bearer token")
	}
	scheme, rest, _ := strings.Cut(header, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated("authorization scheme must be Bearer")
	}
	token := strings.TrimSpace(rest)
	switch {
	case token == "":
		return "", unauthenticated("missing bearer token")
	case len(token) > maxTokenLen:
		return "", unauthenticated("token too large")
	case strings.ContainsAny(token, " \t,"):
		// Two Authorization headers folded into one ("Bearer a, Bearer b"):
		// refused, as two separate headers are, rather than one picked.
		return "", unauthenticated("the Authorization header must hold exactly one bearer token")
	}
	return token, nil
}

// unauthenticated is the one constructor of 401 errors in this package.
func unauthenticated(msg string) *apperr.Error {
	return apperr.New(apperr.Unauthenticated, "%s", msg)
}
