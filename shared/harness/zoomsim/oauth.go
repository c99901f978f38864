package zoomsim

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"numberrelease/shared/zoom"
)

// oauthError is the token endpoint's error body.
type oauthError struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// tokenResponse is the token endpoint's answer. A customer's authorization
// (authorization_code and refresh_token grants) also carries a refresh token
// and the API base URL; a server-to-server token does not.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	APIURL       string `json:"api_url,omitempty"`
}

// handleToken is POST /zoom-sim/oauth/token with HTTP Basic client
// credentials and the grant in the query or form: account_credentials with
// account_id (server-to-server OAuth), authorization_code with code and
// redirect_uri, or refresh_token with refresh_token.
func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || !s.credentialsMatch(id, secret) {
		writeJSON(w, http.StatusUnauthorized, "application/json", oauthError{Reason: "Invalid client_id or client_secret", Error: "invalid_client"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: "Invalid request", Error: "invalid_request"})
		return
	}
	switch r.Form.Get("grant_type") {
	case "account_credentials":
		s.accountCredentials(w, r)
	case "authorization_code":
		s.exchangeCode(w, r, id)
	case "refresh_token":
		s.refreshGrant(w, r, id)
	default:
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: "Unsupported grant type", Error: "unsupported_grant_type"})
	}
}

// accountCredentials issues a server-to-server token for account_id.
func (s *Sim) accountCredentials(w http.ResponseWriter, r *http.Request) {
	account := strings.TrimSpace(r.Form.Get("account_id"))
	if account == "" {
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: "Invalid request : account_id is required.", Error: "invalid_request"})
		return
	}
	tok, err := newToken()
	if err != nil {
		writeZoomError(w, http.StatusInternalServerError, http.StatusInternalServerError, "Internal error.")
		return
	}
	s.mu.Lock()
	now := s.now()
	s.expireLocked(now)
	s.tokens[tok] = session{accountID: account, userID: adminUserID(account), expires: now.Add(s.cfg.TokenTTL)}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", tokenResponse{
		AccessToken: tok, TokenType: "bearer", ExpiresIn: int64(s.cfg.TokenTTL.Seconds()), Scope: tokenScope,
	})
}

// expireLocked forgets expired access tokens, refresh tokens and codes.
// s.mu must be held.
func (s *Sim) expireLocked(now time.Time) {
	for t, sess := range s.tokens {
		if !now.Before(sess.expires) {
			delete(s.tokens, t)
		}
	}
	for t, rt := range s.refresh {
		if !now.Before(rt.expires) {
			delete(s.refresh, t)
		}
	}
	for c, ac := range s.codes {
		if !now.Before(ac.expires) {
			delete(s.codes, c)
		}
	}
}

// credentialsMatch compares in constant time.
func (s *Sim) credentialsMatch(id, secret string) bool {
	idOK := subtle.ConstantTimeCompare([]byte(id), []byte(s.cfg.ClientID))
	secretOK := subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.ClientSecret))
	return idOK&secretOK == 1 && s.cfg.ClientID != ""
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("zoomsim: random token: %w", err)
	}
	return "sim." + base64.RawURLEncoding.EncodeToString(b), nil
}

// accountKey carries the token's account id in a request context, userKey
// its user id.
type (
	accountKey struct{}
	userKey    struct{}
)

// consoleAccount marks a request made in the simulated Zoom web portal by
// the account's own admin (the seed's "Zoom app" Unbind button): no API
// token, and the number's own account applies.
const consoleAccount = "\x00console"

// consoleOrAuthed serves the portal's actions: a request without an
// Authorization header acts as the number's account admin; one with a token
// must carry a valid one, as on the API.
func (s *Sim) consoleOrAuthed(h http.HandlerFunc) http.HandlerFunc {
	authed := s.authed(h)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			h(w, r.WithContext(context.WithValue(r.Context(), accountKey{}, consoleAccount)))
			return
		}
		authed(w, r)
	}
}

// accountOf returns the account id authed put in the context.
func accountOf(ctx context.Context) string {
	a, _ := ctx.Value(accountKey{}).(string)
	return a
}

// userOf returns the user id authed put in the context.
func userOf(ctx context.Context) string {
	u, _ := ctx.Value(userKey{}).(string)
	return u
}

// authed requires a valid, unexpired, unrevoked Bearer token (either kind:
// server-to-server or a customer's authorization) and passes its account
// and user on in the request context. A revoked token is simply gone, so it
// gets the same 401 code 124 as an unknown one.
func (s *Sim) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		tok = strings.TrimSpace(tok)
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			writeZoomError(w, http.StatusUnauthorized, zoom.CodeInvalidAccessToken, "Invalid access token.")
			return
		}
		s.mu.Lock()
		sess, ok := s.tokens[tok]
		valid := ok && s.now().Before(sess.expires)
		s.mu.Unlock()
		if !valid {
			writeZoomError(w, http.StatusUnauthorized, zoom.CodeInvalidAccessToken, "Invalid access token.")
			return
		}
		ctx := context.WithValue(r.Context(), accountKey{}, sess.accountID)
		h(w, r.WithContext(context.WithValue(ctx, userKey{}, sess.userID)))
	}
}
