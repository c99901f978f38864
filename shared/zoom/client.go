// Package zoom is the Zoom API client of Number Release: it finds a phone
// number and its assignee in a customer's Zoom account and removes
// unassigned numbers from it (Zoom's Number Management API), or removes a
// carrier's numbers through the Provider Exchange, authenticating with
// server-to-server OAuth.
//
// Every failure is an *Error whose Kind says what to do about it. The client
// retries only what is cheap to retry at once: a single 401 (with a fresh
// token) and short throttling (HTTP 429: up to twice when Zoom's Retry-After
// is at most 5 s, once after a jittered backoff when Zoom sends none). Longer
// throttling and unavailability are returned to the caller (the Step
// Functions workflow retries them with backoff and jitter).
//
// Every call is paced by Config.Limiter (when set) under the call's Zoom
// rate-limit Label, so that concurrent callers stay within the account's
// documented limits instead of provoking 429s.
package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"numberrelease/shared/pause"
)

const (
	// defaultTimeout bounds one HTTP exchange (request and body).
	defaultTimeout = 10 * time.Second
	// maxRetryAfter is the longest Retry-After the client waits out itself;
	// a longer one is returned as Throttled for the caller to retry later.
	maxRetryAfter = 5 * time.Second
	// retryAfterRetries is how often a 429 with Retry-After is retried here.
	retryAfterRetries = 2
	// backoffRetries is how often a 429 without Retry-After is retried here,
	// after a full-jitter exponential backoff from backoffBase.
	backoffRetries = 1
	backoffBase    = 250 * time.Millisecond
	// maxBody bounds how much of a response the client reads.
	maxBody = 4 << 20
	// userAgent identifies the client to Zoom.
	userAgent = "numberrelease-zoom/1"
)

// Config configures a Client.
type Config struct {
	// APIBase is the API root without a trailing slash, e.g.
	// https://api.zoom.us/v2 or http://localhost:8080/zoom-sim/v2.
	APIBase string
	// OAuthURL is the token endpoint, e.g. https://zoom.us/oauth/token or
	// http://localhost:8080/zoom-sim/oauth/token.
	OAuthURL string
	// ClientID and ClientSecret are the server-to-server OAuth app's
	// credentials (account_credentials tokens, cached per account). Not
	// needed when Tokens is set.
	ClientID, ClientSecret string
	// Tokens, when set, supplies the access tokens instead: e.g. each
	// customer's own authorization of the app (package zoomauth).
	Tokens TokenSource
	// HTTPClient is optional; the default has a 10 s timeout and keeps
	// connections to Zoom alive for concurrent callers.
	HTTPClient *http.Client
	// Timeout bounds each HTTP exchange, whatever HTTPClient is; default 10 s.
	Timeout time.Duration
	// Limiter, when set, paces every API call under its Label (see
	// Limiter); nil makes calls without pacing.
	Limiter Limiter
	// Now is optional; it defaults to time.Now.
	Now func() time.Time
}

// Client calls Zoom's API for any number of accounts. It is safe for
// concurrent use; access tokens are cached per account.
type Client struct {
	apiBase  *url.URL
	oauthURL *url.URL
	id       string
	secret   string
	hc       *http.Client
	timeout  time.Duration
	limiter  Limiter
	now      func() time.Time
	tokens   TokenSource
	cache    *tokenCache // the account_credentials tokens, when Tokens is nil
}

// New validates cfg and returns a Client. It does no network I/O.
func New(cfg Config) (*Client, error) {
	var problems []string
	api, err := parseBase(cfg.APIBase)
	if err != nil {
		problems = append(problems, "APIBase: "+err.Error())
	}
	oauth, err := parseBase(cfg.OAuthURL)
	if err != nil {
		problems = append(problems, "OAuthURL: "+err.Error())
	}
	if cfg.Tokens == nil && strings.TrimSpace(cfg.ClientID) == "" {
		problems = append(problems, "ClientID is empty")
	}
	if cfg.Tokens == nil && cfg.ClientSecret == "" {
		problems = append(problems, "ClientSecret is empty")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("zoom: invalid config: %s", strings.Join(problems, "; "))
	}
	c := &Client{
		apiBase:  api,
		oauthURL: oauth,
		id:       cfg.ClientID,
		secret:   cfg.ClientSecret,
		hc:       cfg.HTTPClient,
		timeout:  cfg.Timeout,
		limiter:  cfg.Limiter,
		now:      cfg.Now,
	}
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32 // many executions call one Zoom host at once
		c.hc = &http.Client{Timeout: c.timeout, Transport: tr}
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.tokens = cfg.Tokens
	if c.tokens == nil {
		c.cache = newTokenCache(c)
		c.tokens = c.cache
	}
	return c, nil
}

// parseBase checks that raw is an absolute http(s) URL and drops a trailing
// slash.
func parseBase(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("empty")
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return nil, errors.New("must not carry credentials")
	}
	return u, nil
}

// endpoint returns APIBase + path with query q.
func (c *Client) endpoint(path string, q url.Values) string {
	u := *c.apiBase
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return u.String()
}

// call performs one API request for accountID with a cached access token,
// paced by the Limiter under label. route names the endpoint in errors and
// logs (e.g. "/number_management/numbers"); path is the one requested.
//
// On a 401 it drops that token, fetches a fresh one and retries once. On a
// 429 it retries as throttleWait allows. It returns the body of a 2xx
// response, or an *Error.
func (c *Client) call(ctx context.Context, accountID string, label Label, method, route, path string, q url.Values) (int, []byte, error) {
	op := method + " " + route
	refreshed := false
	rejected := "" // the token Zoom answered 401 to
	throttled := 0 // 429s retried so far
	for {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx, accountID, label); err != nil {
				return 0, nil, c.limiterError(op, err)
			}
		}
		tok, err := c.tokens.AccessToken(ctx, accountID, rejected)
		if err != nil {
			return 0, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, q), nil)
		if err != nil {
			return 0, nil, &Error{Kind: Rejected, op: op, Message: "build request: " + c.redact(err.Error())}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", userAgent)
		status, hdr, body, err := c.send(req, route, label)
		if err != nil {
			return 0, nil, c.transportError(op, err)
		}
		if status >= 200 && status < 300 {
			return status, body, nil
		}
		if status == http.StatusUnauthorized && !refreshed {
			refreshed, rejected = true, tok
			continue
		}
		var ab apiError
		_ = json.Unmarshal(body, &ab) // a non-JSON body leaves ab empty
		e := &Error{Kind: classifyAPI(status, ab), Status: status, Code: ab.Code, op: op,
			Message: c.redact(firstNonEmpty(ab.Message, ab.Reason, http.StatusText(status)))}
		if e.Kind == Throttled || e.Kind == Unavailable {
			e.RetryAfter, _ = parseRetryAfter(hdr.Get("Retry-After"), c.now())
		}
		if e.Kind == Throttled {
			if t := hdr.Get("X-RateLimit-Type"); t != "" {
				e.Message += " [" + t + " limit, " + firstNonEmpty(hdr.Get("X-RateLimit-Category"), string(label)) + "]"
			}
			if d, ok := c.throttleWait(ctx, hdr, throttled); ok {
				slog.InfoContext(ctx, "zoom throttled; retrying", "op", op, "label", label, "wait", d,
					"retry_after", hdr.Get("Retry-After"), "ratelimit_type", hdr.Get("X-RateLimit-Type"),
					"ratelimit_remaining", hdr.Get("X-RateLimit-Remaining"))
				if pause.For(ctx, d) != nil {
					return status, body, e
				}
				throttled++
				continue
			}
		}
		return status, body, e
	}
}

// throttleWait decides whether a 429 is retried here and after how long:
// never for a daily limit (X-RateLimit-Type: Daily-limit; it lasts until
// midnight UTC); with Retry-After, at most retryAfterRetries times when it
// asks for no more than maxRetryAfter; without, backoffRetries times after
// a full-jitter exponential backoff. Never when the wait would outlast ctx.
func (c *Client) throttleWait(ctx context.Context, hdr http.Header, retried int) (time.Duration, bool) {
	if strings.Contains(strings.ToLower(hdr.Get("X-RateLimit-Type")), "daily") {
		return 0, false
	}
	var d time.Duration
	if ra, ok := parseRetryAfter(hdr.Get("Retry-After"), c.now()); ok {
		if ra > maxRetryAfter || retried >= retryAfterRetries {
			return 0, false
		}
		d = ra
	} else {
		if retried >= backoffRetries {
			return 0, false
		}
		d = fullJitter(backoffBase << retried)
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return 0, false
	}
	return d, true
}

// fullJitter returns a random duration in [0, max).
func fullJitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

// limiterError turns a Limiter failure into an *Error: its own *Error
// (Throttled) keeps its kind and gets the operation; a context error or a
// failure of the limiter's store is Unavailable (retry later).
func (c *Client) limiterError(op string, err error) error {
	var ze *Error
	if errors.As(err, &ze) {
		cp := *ze
		if cp.op == "" {
			cp.op = op
		}
		return &cp
	}
	return &Error{Kind: Unavailable, op: op, Message: "rate limiter: " + c.redact(err.Error()), cause: err}
}

// send does one HTTP round trip within the client's timeout and reads the
// (bounded) body. It logs the method, the route (never the query or a
// header value that could carry a credential), the label, the status, the
// duration and Zoom's rate-limit headers.
func (c *Client) send(req *http.Request, route string, label Label) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(req.Context(), c.timeout)
	defer cancel()
	req = req.WithContext(ctx)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		slog.DebugContext(ctx, "zoom request failed", "method", req.Method, "path", route, "label", label,
			"duration", time.Since(start))
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	attrs := []any{"method", req.Method, "path", route, "status", resp.StatusCode, "duration", time.Since(start)}
	if label != "" {
		attrs = append(attrs, "label", label)
	}
	for _, h := range []string{"X-RateLimit-Category", "X-RateLimit-Type", "X-RateLimit-Limit", "X-RateLimit-Remaining", "Retry-After"} {
		if v := resp.Header.Get(h); v != "" {
			attrs = append(attrs, strings.ToLower(h), v)
		}
	}
	slog.DebugContext(ctx, "zoom request", attrs...)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// transportError turns a failed round trip into an Unavailable *Error. The
// message omits the URL (it names no secret, but keeps the text short) and
// is redacted anyway.
func (c *Client) transportError(op string, err error) *Error {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	return &Error{Kind: Unavailable, op: op, Message: c.redact(msg), cause: err}
}

// redact removes the client secret and every cached access token from s.
func (c *Client) redact(s string) string {
	if c.secret != "" {
		s = strings.ReplaceAll(s, c.secret, "[redacted]")
	}
	if c.cache != nil {
		for _, t := range c.cache.values() {
			s = strings.ReplaceAll(s, t, "[redacted]")
		}
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
