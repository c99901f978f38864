package zoom

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// refreshMargin: a cached token is replaced when fewer than this remain.
	refreshMargin = 5 * time.Minute
	// tokenFetchTimeout bounds one token fetch, which runs detached from the
	// caller that started it because other callers may be waiting on it.
	tokenFetchTimeout = 15 * time.Second
)

// TokenSource supplies the access token of a Zoom account's calls.
// rejected is "" or a token Zoom has just refused (HTTP 401): the answer
// must then be another one (or an error). The error is an *Error; Kind
// NotConnected when the account has no authorization to call with.
type TokenSource interface {
	AccessToken(ctx context.Context, accountID, rejected string) (string, error)
}

// token is a cached access token.
type token struct {
	value     string
	refreshAt time.Time // when to fetch a new one
}

// tokenFetch is one in-flight token request that callers wait on.
type tokenFetch struct {
	done chan struct{}
	tok  token
	err  error
}

// tokenCache holds one access token per account id and makes sure at most
// one fetch per account runs at a time.
type tokenCache struct {
	c       *Client
	mu      sync.Mutex
	tokens  map[string]token
	fetches map[string]*tokenFetch
}

func newTokenCache(c *Client) *tokenCache {
	return &tokenCache{c: c, tokens: map[string]token{}, fetches: map[string]*tokenFetch{}}
}

// AccessToken returns a usable account_credentials token for accountID,
// fetching one if none is cached, the cached one is about to expire or Zoom
// rejected it. Concurrent callers share one fetch.
func (tc *tokenCache) AccessToken(ctx context.Context, accountID, rejected string) (string, error) {
	if rejected != "" {
		tc.invalidate(accountID, rejected)
	}
	if err := ctx.Err(); err != nil {
		return "", &Error{Kind: Unavailable, op: "oauth token", Message: err.Error(), cause: err}
	}
	tc.mu.Lock()
	if t, ok := tc.tokens[accountID]; ok && tc.c.now().Before(t.refreshAt) {
		tc.mu.Unlock()
		return t.value, nil
	}
	f, running := tc.fetches[accountID]
	if !running {
		f = &tokenFetch{done: make(chan struct{})}
		tc.fetches[accountID] = f
		go tc.run(context.WithoutCancel(ctx), accountID, f)
	}
	tc.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return "", f.err
		}
		return f.tok.value, nil
	case <-ctx.Done():
		return "", &Error{Kind: Unavailable, op: "oauth token", Message: "waiting for access token: " + ctx.Err().Error(), cause: ctx.Err()}
	}
}

// run performs one fetch and publishes its result to the cache and waiters.
func (tc *tokenCache) run(ctx context.Context, accountID string, f *tokenFetch) {
	ctx, cancel := context.WithTimeout(ctx, tokenFetchTimeout)
	defer cancel()
	tok, err := tc.c.fetchToken(ctx, accountID)
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if err == nil {
		tc.tokens[accountID] = tok
	}
	delete(tc.fetches, accountID)
	f.tok, f.err = tok, err
	close(f.done)
}

// invalidate drops the cached token of accountID if it is still value (a
// newer token fetched meanwhile is kept).
func (tc *tokenCache) invalidate(accountID, value string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if t, ok := tc.tokens[accountID]; ok && t.value == value {
		delete(tc.tokens, accountID)
	}
}

// values lists the cached tokens, for redaction.
func (tc *tokenCache) values() []string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	out := make([]string, 0, len(tc.tokens))
	for _, t := range tc.tokens {
		out = append(out, t.value)
	}
	return out
}

// tokenResponse is the OAuth token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// fetchToken asks the OAuth endpoint for an account_credentials token.
func (c *Client) fetchToken(ctx context.Context, accountID string) (token, error) {
	const op = "oauth token"
	if strings.TrimSpace(accountID) == "" {
		return token{}, &Error{Kind: Rejected, op: op, Message: "account id is empty"}
	}
	u := *c.oauthURL
	q := u.Query()
	q.Set("grant_type", "account_credentials")
	q.Set("account_id", accountID)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return token{}, &Error{Kind: Rejected, op: op, Message: "build request: " + c.redact(err.Error())}
	}
	req.SetBasicAuth(c.id, c.secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	issued := c.now()
	status, hdr, body, err := c.send(req, c.oauthURL.Path, "")
	if err != nil {
		return token{}, c.transportError(op, err)
	}
	if status != http.StatusOK {
		var ab apiError
		_ = json.Unmarshal(body, &ab)
		e := &Error{Kind: classifyOAuth(status, ab), Status: status, Code: ab.Code, op: op,
			Message: c.redact(firstNonEmpty(ab.Reason, ab.Message, ab.Error, http.StatusText(status)))}
		if e.Kind == Throttled || e.Kind == Unavailable {
			e.RetryAfter, _ = parseRetryAfter(hdr.Get("Retry-After"), c.now())
		}
		return token{}, e
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return token{}, &Error{Kind: Unavailable, Status: status, op: op, Message: "token response without an access token"}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return token{}, &Error{Kind: Rejected, Status: status, op: op, Message: fmt.Sprintf("unexpected token type %q", tr.TokenType)}
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour // Zoom's documented lifetime
	}
	// Refresh 5 minutes before expiry; a token shorter-lived than twice that
	// is used for the first half of its life so it is still cached at all.
	margin := min(refreshMargin, ttl/2)
	return token{value: tr.AccessToken, refreshAt: issued.Add(ttl - margin)}, nil
}
