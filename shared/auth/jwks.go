package auth

import (
	"context"
	"log/slog"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"numberrelease/shared/apperr"
)

// keyfunc returns the jwt.Keyfunc for one Verify call. It is only reached
// for tokens that parsed and use an accepted algorithm, so garbage never
// causes a JWKS fetch.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kf, err := v.keys(ctx)
		if err != nil {
			return nil, err
		}
		failuresBefore := v.refreshFailures.Load()
		key, err := kf.KeyfuncCtx(ctx)(t)
		if err == nil {
			return key, nil
		}
		switch {
		case ctx.Err() != nil:
			return nil, apperr.New(apperr.Unavailable, "request ended while looking up token signing keys")
		case v.refreshFailures.Load() != failuresBefore:
			// The kid was unknown and asking the issuer again failed: we
			// cannot tell whether the token is good, and that is our problem.
			return nil, apperr.New(apperr.Unavailable, "token signing keys are unavailable; retry later")
		}
		return nil, unauthenticated("token signing key not recognised")
	}
}

// keys returns the loaded key source, fetching the JWKS the first time. A
// failed first fetch is not remembered: the next call tries again.
func (v *Verifier) keys(ctx context.Context) (keyfunc.Keyfunc, error) {
	if kf := v.kf.Load(); kf != nil {
		return *kf, nil
	}
	select {
	case v.initSem <- struct{}{}:
		defer func() { <-v.initSem }()
	case <-ctx.Done():
		return nil, apperr.New(apperr.Unavailable, "request ended while fetching token signing keys")
	}
	if kf := v.kf.Load(); kf != nil { // another caller loaded it meanwhile
		return *kf, nil
	}
	if v.ctx.Err() != nil {
		return nil, apperr.New(apperr.Unavailable, "token verifier is closed")
	}
	// Each attempt gets its own context so that a failed attempt's refresh
	// goroutine (started by jwkset before the first fetch) is stopped.
	attempt, stop := context.WithCancel(v.ctx)
	kf, err := keyfunc.NewDefaultOverrideCtx(attempt, []string{v.jwksURL}, keyfunc.Override{
		Client:                    v.client,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: new(false),
		RefreshInterval:           jwksRefreshInterval,
		RefreshUnknownKID:         rate.NewLimiter(rate.Every(unknownKIDRefreshEvery), 1),
		// Bounds both the wait for the limiter (a refused wait fails at
		// once) and the unknown-kid refresh that follows it.
		RateLimitWaitMax:        jwksTimeout,
		RefreshErrorHandlerFunc: v.refreshErrorHandler,
	})
	if err != nil {
		stop()
		slog.WarnContext(ctx, "fetch jwks failed", "url", v.jwksURL, "error", err)
		return nil, apperr.New(apperr.Unavailable, "token signing keys are unavailable; retry later")
	}
	v.kf.Store(&kf)
	// The attempt context now carries the background refresh; Close ends it
	// through v.ctx. Keep stop reachable so the context is not leaked.
	context.AfterFunc(v.ctx, stop)
	return kf, nil
}

// refreshErrorHandler counts and logs failed background or unknown-kid
// refreshes. Tokens are never logged.
func (v *Verifier) refreshErrorHandler(u string) func(ctx context.Context, err error) {
	return func(ctx context.Context, err error) {
		v.refreshFailures.Add(1)
		slog.WarnContext(ctx, "refresh jwks failed", "url", u, "error", err)
	}
}
