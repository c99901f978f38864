// Package zoom is the Zoom Phone API client of Number Release: it finds a
// phone number and its assignee in a customer's Zoom account and removes
// unassigned numbers from it, authenticating with server-to-server OAuth.
//
// Every failure is an *Error whose Kind says what to do about it; the client
// retries nothing but a single 401 (with a fresh token). Throttling and
// unavailability are retried by the caller (the Step Functions workflow).
package zoom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	defaultTimeout = 10 * time.Second
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
	// credentials.
	ClientID, ClientSecret string
	// HTTPClient is optional; the default has a 10 s timeout.
	HTTPClient *http.Client
	// Now is optional; it defaults to time.Now.
	Now func() time.Time
}

// Client calls the Zoom Phone API for any number of accounts. It is safe for
// concurrent use; access tokens are cached per account.
type Client struct {
	apiBase  *url.URL
	oauthURL *url.URL
	id       string
	secret   string
	hc       *http.Client
	now      func() time.Time
	tokens   *tokenCache
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
	if strings.TrimSpace(cfg.ClientID) == "" {
		problems = append(problems, "ClientID is empty")
	}
	if cfg.ClientSecret == "" {
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
		now:      cfg.Now,
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.tokens = newTokenCache(c)
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

// call performs one API request for accountID with a cached access token.
// On a 401 it drops that token, fetches a fresh one and retries once. It
// returns the body of a 2xx response, or an *Error.
func (c *Client) call(ctx context.Context, accountID, method, path string, q url.Values) (int, []byte, error) {
	op := method + " " + path
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.get(ctx, accountID)
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
		status, hdr, body, err := c.send(req, path)
		if err != nil {
			return 0, nil, c.transportError(op, err)
		}
		if status >= 200 && status < 300 {
			return status, body, nil
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.tokens.invalidate(accountID, tok)
			continue
		}
		var ab apiError
		_ = json.Unmarshal(body, &ab) // a non-JSON body leaves ab empty
		e := &Error{Kind: classifyAPI(status, ab), Status: status, Code: ab.Code, op: op,
			Message: c.redact(firstNonEmpty(ab.Message, ab.Reason, http.StatusText(status)))}
		if e.Kind == Throttled || e.Kind == Unavailable {
			e.RetryAfter = parseRetryAfter(hdr.Get("Retry-After"), c.now())
		}
		return status, body, e
	}
}

// send does one HTTP round trip and reads the (bounded) body. It logs the
// method, the path without query, the status and the duration.
func (c *Client) send(req *http.Request, logPath string) (int, http.Header, []byte, error) {
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		slog.DebugContext(req.Context(), "zoom request failed", "method", req.Method, "path", logPath,
			"duration", time.Since(start))
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	slog.DebugContext(req.Context(), "zoom request", "method", req.Method, "path", logPath,
		"status", resp.StatusCode, "duration", time.Since(start))
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
	for _, t := range c.tokens.values() {
		s = strings.ReplaceAll(s, t, "[redacted]")
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
