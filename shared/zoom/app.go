package zoom

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// App is the Zoom OAuth app customers authorize (authorization code
// grant): it sends an admin to Zoom's consent page, trades the code Zoom
// returns for the account's tokens, refreshes them (Zoom issues a new
// refresh token on every use and the old one stops working), asks who
// authorized, and revokes. Safe for concurrent use.
type App struct {
	// OAuthURL is the token endpoint (https://zoom.us/oauth/token); the
	// authorize and revoke endpoints are its siblings.
	OAuthURL string
	// APIBase is the API root, for GET /users/me.
	APIBase string
	// ClientID and ClientSecret are the app's credentials.
	ClientID, ClientSecret string
	// HTTPClient is optional (default: 10 s timeout).
	HTTPClient *http.Client
	// Now is optional; it defaults to time.Now.
	Now func() time.Time
}

// UserTokens are one authorization's tokens.
type UserTokens struct {
	Access    string    `json:"access_token"`
	Refresh   string    `json:"refresh_token"`
	ExpiresAt time.Time `json:"expires_at"`
	Scope     string    `json:"scope,omitempty"`
}

// Me is who an access token acts as.
type Me struct {
	UserID    string `json:"id"`
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
}

// sibling is the OAuth endpoint name next to the token endpoint.
func (a *App) sibling(name string) (string, error) {
	u, err := parseBase(a.OAuthURL)
	if err != nil {
		return "", fmt.Errorf("zoom app: OAuthURL: %w", err)
	}
	i := strings.LastIndex(u.Path, "/")
	u.Path = u.Path[:i+1] + name
	return u.String(), nil
}

// AuthorizeURL is Zoom's consent page for this app, returning to
// redirectURI with a code and state.
func (a *App) AuthorizeURL(redirectURI, state string) (string, error) {
	base, err := a.sibling("authorize")
	if err != nil {
		return "", err
	}
	q := url.Values{"response_type": {"code"}, "client_id": {a.ClientID}, "redirect_uri": {redirectURI}, "state": {state}}
	return base + "?" + q.Encode(), nil
}

// Exchange trades an authorization code for the account's tokens. A code
// Zoom refuses (unknown, used, expired, another redirect URI) is Rejected.
func (a *App) Exchange(ctx context.Context, code, redirectURI string) (UserTokens, error) {
	return a.grant(ctx, "oauth authorization_code", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}}, Rejected)
}

// Refresh trades a refresh token for a new pair. A refresh token Zoom
// refuses (used already, revoked, the app removed) is NotConnected: the
// authorization is gone.
func (a *App) Refresh(ctx context.Context, refreshToken string) (UserTokens, error) {
	return a.grant(ctx, "oauth refresh_token", url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, NotConnected)
}

// grant posts one grant to the token endpoint; refused is the Kind of a
// 4xx that is not about the app's own credentials.
func (a *App) grant(ctx context.Context, op string, form url.Values, refused Kind) (UserTokens, error) {
	status, hdr, body, err := a.post(ctx, a.OAuthURL, form)
	if err != nil {
		return UserTokens{}, &Error{Kind: Unavailable, op: op, Message: a.redact(err.Error()), cause: err}
	}
	if status != http.StatusOK {
		var ab apiError
		_ = json.Unmarshal(body, &ab)
		kind := classifyOAuth(status, ab)
		if kind == Rejected {
			kind = refused
		}
		e := &Error{Kind: kind, Status: status, Code: ab.Code, op: op,
			Message: a.redact(firstNonEmpty(ab.Reason, ab.Message, ab.Error, http.StatusText(status)))}
		if kind == Throttled || kind == Unavailable {
			e.RetryAfter, _ = parseRetryAfter(hdr.Get("Retry-After"), a.now())
		}
		return UserTokens{}, e
	}
	var tr struct {
		tokenResponse
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return UserTokens{}, &Error{Kind: Unavailable, Status: status, op: op, Message: "token response without an access and a refresh token"}
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	return UserTokens{Access: tr.AccessToken, Refresh: tr.RefreshToken, ExpiresAt: a.now().Add(ttl), Scope: tr.Scope}, nil
}

// Revoke ends the authorization a token belongs to (POST /oauth/revoke).
// A token Zoom no longer knows is not an error.
func (a *App) Revoke(ctx context.Context, token string) error {
	const op = "oauth revoke"
	u, err := a.sibling("revoke")
	if err != nil {
		return &Error{Kind: Rejected, op: op, Message: err.Error()}
	}
	status, _, body, err := a.post(ctx, u, url.Values{"token": {token}})
	if err != nil {
		return &Error{Kind: Unavailable, op: op, Message: a.redact(err.Error()), cause: err}
	}
	if status == http.StatusOK || status == http.StatusBadRequest || status == http.StatusUnauthorized {
		return nil // revoked, or nothing left to revoke
	}
	var ab apiError
	_ = json.Unmarshal(body, &ab)
	return &Error{Kind: classifyOAuth(status, ab), Status: status, op: op, Message: firstNonEmpty(ab.Reason, ab.Message, http.StatusText(status))}
}

// Me asks Zoom who access acts as (GET /users/me): the account id of an
// authorization comes from Zoom, never from what a user typed.
func (a *App) Me(ctx context.Context, access string) (Me, error) {
	const op = "GET /users/me"
	base, err := parseBase(a.APIBase)
	if err != nil {
		return Me{}, &Error{Kind: Rejected, op: op, Message: "APIBase: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base.String()+"/users/me", nil)
	if err != nil {
		return Me{}, &Error{Kind: Rejected, op: op, Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := a.client().Do(req)
	if err != nil {
		return Me{}, &Error{Kind: Unavailable, op: op, Message: strings.ReplaceAll(err.Error(), access, "[redacted]"), cause: err}
	}
	defer resp.Body.Close()
	var me Me
	if resp.StatusCode != http.StatusOK {
		var ab apiError
		_ = json.NewDecoder(resp.Body).Decode(&ab)
		return Me{}, &Error{Kind: classifyAPI(resp.StatusCode, ab), Status: resp.StatusCode, Code: ab.Code, op: op,
			Message: firstNonEmpty(ab.Message, http.StatusText(resp.StatusCode))}
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil || me.AccountID == "" {
		return Me{}, &Error{Kind: Unavailable, Status: resp.StatusCode, op: op, Message: "answer without an account id"}
	}
	return me, nil
}

func (a *App) post(ctx context.Context, endpoint string, form url.Values) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, err
	}
	req.SetBasicAuth(a.ClientID, a.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := a.client().Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, body, nil
}

func (a *App) client() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return &http.Client{Timeout: defaultTimeout}
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// redact removes the client secret from s.
func (a *App) redact(s string) string {
	if a.ClientSecret != "" {
		s = strings.ReplaceAll(s, a.ClientSecret, "[redacted]")
	}
	return s
}
