package zoomauth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"time"

	"numberrelease/shared/pause"
	"numberrelease/shared/zoom"
)

const (
	// refreshMargin: an access token with less left than this is refreshed.
	refreshMargin = 5 * time.Minute
	// leaseFor bounds one refresh (Zoom's token call is bounded by the
	// client's 10 s timeout); a caller that dies holding the lease blocks
	// refreshes no longer than this.
	leaseFor = 30 * time.Second
	// leasePoll is the longest pause between looks at a lease held by
	// another caller.
	leasePoll = 250 * time.Millisecond
)

// GrantStore is what the token source needs of the stored grants.
type GrantStore interface {
	Get(ctx context.Context, accountID string) (Grant, bool, error)
	TakeLease(ctx context.Context, accountID string, version int, owner string, now, until time.Time) error
	Rotate(ctx context.Context, accountID string, version int, owner string, sealed []byte, expires, now time.Time) error
	FreeLease(ctx context.Context, accountID, owner string) error
	End(ctx context.Context, accountID string, version int, reason string, now time.Time) error
}

// Box seals and opens an account's tokens (Sealer).
type Box interface {
	Seal(ctx context.Context, accountID string, t zoom.UserTokens) ([]byte, error)
	Open(ctx context.Context, accountID string, b []byte) (zoom.UserTokens, error)
}

// Refresher trades a refresh token for a new pair (zoom.App).
type Refresher interface {
	Refresh(ctx context.Context, refreshToken string) (zoom.UserTokens, error)
}

// Tokens is the zoom.TokenSource of customer mode: each account's access
// token from its stored grant, refreshed when it is about to expire or
// Zoom refused it. Every caller of every function instance goes through
// the grant's lease to refresh, so one refresh token is used once: the
// others wait for the lease and read the new tokens.
type Tokens struct {
	Grants GrantStore
	Box    Box
	// App returns the OAuth app (its credentials may be loaded lazily).
	App func(ctx context.Context) (Refresher, error)
	Log *slog.Logger
	Now func() time.Time

	once  sync.Once
	owner string
	mu    sync.Mutex
	cache map[string]cachedToken
}

type cachedToken struct {
	access    string
	refreshAt time.Time
}

var _ zoom.TokenSource = (*Tokens)(nil)

func (t *Tokens) init() {
	t.once.Do(func() {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		t.owner = hex.EncodeToString(b)
		t.cache = map[string]cachedToken{}
	})
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// AccessToken returns accountID's access token other than rejected.
func (t *Tokens) AccessToken(ctx context.Context, accountID, rejected string) (string, error) {
	t.init()
	t.mu.Lock()
	c, ok := t.cache[accountID]
	t.mu.Unlock()
	if ok && c.access != rejected && t.now().Before(c.refreshAt) {
		return c.access, nil
	}
	for {
		tok, done, err := t.attempt(ctx, accountID, rejected)
		if done {
			return tok, err
		}
		// Another caller holds the refresh lease: wait for its tokens.
		if err := pause.For(ctx, mrand.N(leasePoll)+leasePoll/5); err != nil {
			return "", unavailable("waiting for another caller's token refresh: " + err.Error())
		}
	}
}

// attempt reads the grant and answers from it, refreshing it if this
// caller wins the lease; done is false when the lease is held elsewhere.
func (t *Tokens) attempt(ctx context.Context, accountID, rejected string) (string, bool, error) {
	g, ok, err := t.Grants.Get(ctx, accountID)
	if err != nil {
		return "", true, unavailable(err.Error())
	}
	if !ok || !g.Connected {
		return "", true, notConnected(accountID, g.Reason)
	}
	now := t.now()
	if g.LeaseOwner != "" && g.LeaseOwner != t.owner && now.UnixMilli() < g.LeaseUntil {
		// Another caller is refreshing: wait for its tokens rather than
		// unseal these (a KMS call per look).
		return "", false, nil
	}
	cur, err := t.Box.Open(ctx, accountID, g.Sealed)
	if err != nil {
		return "", true, unavailable(err.Error())
	}
	if cur.Access != rejected && now.Before(refreshAt(now, g.AccessExpires)) {
		t.remember(accountID, cur.Access, refreshAt(now, g.AccessExpires))
		return cur.Access, true, nil
	}
	err = t.Grants.TakeLease(ctx, accountID, g.Version, t.owner, now, now.Add(leaseFor))
	if errors.Is(err, ErrChanged) {
		return "", false, nil
	}
	if err != nil {
		return "", true, unavailable(err.Error())
	}
	tok, err := t.refresh(ctx, g, cur)
	return tok, true, err
}

// refresh uses the refresh token of g under this caller's lease.
func (t *Tokens) refresh(ctx context.Context, g Grant, cur zoom.UserTokens) (string, error) {
	// Once Zoom has answered, its new tokens must be stored even if the
	// caller gives up: the old refresh token no longer works.
	ctx = context.WithoutCancel(ctx)
	app, err := t.App(ctx)
	if err != nil {
		t.free(ctx, g.AccountID)
		return "", err
	}
	next, err := app.Refresh(ctx, cur.Refresh)
	if zoom.KindOf(err) == zoom.NotConnected {
		reason := "Zoom refused the authorization's refresh token (the app was removed or the authorization revoked)"
		if endErr := t.Grants.End(ctx, g.AccountID, g.Version, reason, t.now()); endErr != nil && !errors.Is(endErr, ErrChanged) {
			t.Log.ErrorContext(ctx, "could not record the end of a zoom authorization", "zoom_account_id", g.AccountID, "error", endErr)
		}
		t.Log.WarnContext(ctx, "zoom authorization ended: refresh refused", "zoom_account_id", g.AccountID, "customer_id", g.CustomerID)
		return "", notConnected(g.AccountID, reason)
	}
	if err != nil {
		t.free(ctx, g.AccountID)
		return "", err
	}
	sealedNext, err := t.Box.Seal(ctx, g.AccountID, next)
	if err == nil {
		err = t.Grants.Rotate(ctx, g.AccountID, g.Version, t.owner, sealedNext, next.ExpiresAt, t.now())
	}
	if err != nil {
		// The new access token still works for this caller; the refresh
		// token is lost unless the grant was replaced meanwhile (a new
		// connection), and the next refresh will say so.
		t.Log.ErrorContext(ctx, "refreshed zoom tokens not stored", "zoom_account_id", g.AccountID, "error", err)
	} else {
		t.Log.InfoContext(ctx, "zoom tokens refreshed", "zoom_account_id", g.AccountID, "version", g.Version+1)
	}
	now := t.now()
	t.remember(g.AccountID, next.Access, refreshAt(now, next.ExpiresAt))
	return next.Access, nil
}

func (t *Tokens) free(ctx context.Context, accountID string) {
	if err := t.Grants.FreeLease(ctx, accountID, t.owner); err != nil {
		t.Log.WarnContext(ctx, "zoom refresh lease not freed (it expires by itself)", "zoom_account_id", accountID, "error", err)
	}
}

func (t *Tokens) remember(accountID, access string, at time.Time) {
	t.mu.Lock()
	t.cache[accountID] = cachedToken{access: access, refreshAt: at}
	t.mu.Unlock()
}

// Forget drops accountID's cached token (its authorization ended).
func (t *Tokens) Forget(accountID string) {
	t.init()
	t.mu.Lock()
	delete(t.cache, accountID)
	t.mu.Unlock()
}

// refreshAt is when a token expiring at expires should be replaced: five
// minutes before, or halfway for a token that lives less than ten.
func refreshAt(now, expires time.Time) time.Time {
	if !now.Before(expires) {
		return expires
	}
	margin := min(refreshMargin, expires.Sub(now)/2)
	return expires.Add(-margin)
}

func unavailable(msg string) error {
	return &zoom.Error{Kind: zoom.Unavailable, Message: "zoom authorization: " + msg}
}

func notConnected(accountID, reason string) error {
	msg := fmt.Sprintf("Zoom account %s has not authorized the app", accountID)
	if reason != "" {
		msg += ": " + reason
	}
	return &zoom.Error{Kind: zoom.NotConnected, Message: msg}
}
