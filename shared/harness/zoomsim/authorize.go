package zoomsim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"numberrelease/shared/zoom"
)

// userScope is added to a customer authorization's scopes: it lets the app
// read GET /users/me (Zoom's granular scope for one's own user).
const userScope = "user:read:user"

// The token endpoint's error reasons for a customer's authorization, as
// Zoom words them (docs/ZOOM.md, "Customer authorization (OAuth)").
const (
	reasonInvalidCode      = "Invalid authorization code"
	reasonRedirectMismatch = "Redirect URI mismatch."
	reasonInvalidToken     = "Invalid Token!"
)

// authCode is an unexchanged authorization code: one use, authCodeTTL.
type authCode struct {
	clientID, redirectURI string
	accountID, userID     string
	expires               time.Time
}

// refreshToken is a live refresh token. Each use replaces it.
type refreshToken struct {
	clientID, accountID, userID string
	expires                     time.Time
}

// grantKey is one account's authorization of one app.
type grantKey struct{ clientID, accountID string }

// grantStats is what the simulator remembers of an authorization.
type grantStats struct {
	userID         string // who authorized it last
	authorized     bool   // false once deauthorized or revoked
	authorizations int    // codes exchanged
	rotations      int    // refresh tokens used
}

// adminUserID is the simulated admin user of an account: the user an
// authorization acts as when no user is named, and the owner a
// server-to-server token acts as.
func adminUserID(account string) string { return "sim-admin-" + account }

// checkRedirect validates a redirect_uri against the registered ones (or,
// with none registered, requires an http(s) URL on the local machine).
func (s *Sim) checkRedirect(raw string) error {
	if raw == "" {
		return fmt.Errorf("required")
	}
	if len(s.cfg.RedirectURIs) > 0 {
		if !slices.Contains(s.cfg.RedirectURIs, raw) {
			return fmt.Errorf("%q is not a registered redirect URI", raw)
		}
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%q: must be an http(s) URL", raw)
	}
	switch h := u.Hostname(); {
	case h == "localhost", net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback():
		return nil
	default:
		return fmt.Errorf("%q: with no redirect URIs configured only localhost URLs are allowed", raw)
	}
}

// approval is a customer's admin clicking "Allow".
type approval struct {
	AccountID   string `json:"account_id"`
	UserID      string `json:"user_id"`
	ClientID    string `json:"client_id"`
	RedirectURI string `json:"redirect_uri"`
	State       string `json:"state"`
}

// check names every invalid field.
func (s *Sim) check(a approval) []fieldProblem {
	var bad []fieldProblem
	if strings.TrimSpace(a.AccountID) == "" {
		bad = append(bad, fieldProblem{Field: "account_id", Reason: "required"})
	}
	if a.ClientID == "" {
		bad = append(bad, fieldProblem{Field: "client_id", Reason: "required"})
	} else if a.ClientID != s.cfg.ClientID {
		bad = append(bad, fieldProblem{Field: "client_id", Reason: fmt.Sprintf("%q: no such app", a.ClientID)})
	}
	if err := s.checkRedirect(a.RedirectURI); err != nil {
		bad = append(bad, fieldProblem{Field: "redirect_uri", Reason: err.Error()})
	}
	return bad
}

// approve mints an authorization code for a and returns the URL Zoom would
// send the browser to: redirect_uri with code and state.
func (s *Sim) approve(a approval) (string, error) {
	code, err := newToken()
	if err != nil {
		return "", err
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return "", fmt.Errorf("parse redirect_uri: %w", err)
	}
	user := strings.TrimSpace(a.UserID)
	if user == "" {
		user = adminUserID(strings.TrimSpace(a.AccountID))
	}
	s.mu.Lock()
	now := s.now()
	s.expireLocked(now)
	s.codes[code] = authCode{clientID: a.ClientID, redirectURI: a.RedirectURI,
		accountID: strings.TrimSpace(a.AccountID), userID: user, expires: now.Add(authCodeTTL)}
	s.mu.Unlock()
	q := u.Query()
	q.Set("code", code)
	if a.State != "" {
		q.Set("state", a.State)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// handleAuthorize is GET /zoom-sim/oauth/authorize?response_type=code&
// client_id=&redirect_uri=&state= plus the simulator-only account_id (and
// optional user_id): the admin of that account allows the app at once, and
// the answer is Zoom's 302 to redirect_uri with code and state. Invalid
// parameters get a 400 and no redirect, as on Zoom's own page.
func (s *Sim) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a := approval{AccountID: q.Get("account_id"), UserID: q.Get("user_id"), ClientID: q.Get("client_id"),
		RedirectURI: q.Get("redirect_uri"), State: q.Get("state")}
	bad := s.check(a)
	if rt := q.Get("response_type"); rt != "code" {
		bad = append(bad, fieldProblem{Field: "response_type", Reason: fmt.Sprintf("%q: must be code", rt)})
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest,
			"invalid authorization request (the simulator has no consent page: pass account_id to allow at once, or use POST /zoom-sim/admin/oauth/approve)", bad...)
		return
	}
	to, err := s.approve(a)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "mint authorization code")
		return
	}
	http.Redirect(w, r, to, http.StatusFound)
}

// handleAdminApprove is POST /zoom-sim/admin/oauth/approve
// {"account_id","user_id"?,"client_id","redirect_uri","state"?}: the admin
// of account_id allows the app; 200 {"redirect"} is where Zoom would send
// the browser.
func (s *Sim) handleAdminApprove(w http.ResponseWriter, r *http.Request) {
	var a approval
	if err := decodeJSON(w, r, &a); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	if bad := s.check(a); len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
		return
	}
	to, err := s.approve(a)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "mint authorization code")
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"redirect": to})
}

// exchangeCode is the authorization_code grant: the code (single use,
// unexpired, issued to this client) and the same redirect_uri give a user
// token pair for the code's account.
func (s *Sim) exchangeCode(w http.ResponseWriter, r *http.Request, clientID string) {
	code, redirect := r.Form.Get("code"), r.Form.Get("redirect_uri")
	if code == "" {
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: reasonInvalidCode, Error: "invalid_request"})
		return
	}
	s.mu.Lock()
	now := s.now()
	s.expireLocked(now)
	ac, ok := s.codes[code]
	switch {
	case !ok || ac.clientID != clientID:
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: reasonInvalidCode, Error: "invalid_request"})
		return
	case ac.redirectURI != redirect:
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: reasonRedirectMismatch, Error: "invalid_request"})
		return
	}
	delete(s.codes, code)
	g := s.grantLocked(grantKey{clientID: clientID, accountID: ac.accountID})
	g.userID, g.authorized = ac.userID, true
	g.authorizations++
	resp, err := s.issueLocked(r, clientID, ac.accountID, ac.userID, now)
	s.mu.Unlock()
	writeTokens(w, resp, err)
}

// refreshGrant is the refresh_token grant: a live refresh token of this
// client gives a new pair, and the old refresh token stops working at once
// (no grace: a second use, even concurrent, fails).
func (s *Sim) refreshGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	old := r.Form.Get("refresh_token")
	s.mu.Lock()
	now := s.now()
	s.expireLocked(now)
	rt, ok := s.refresh[old]
	if old == "" || !ok || rt.clientID != clientID {
		s.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: reasonInvalidToken, Error: "invalid_request"})
		return
	}
	delete(s.refresh, old)
	s.grantLocked(grantKey{clientID: clientID, accountID: rt.accountID}).rotations++
	resp, err := s.issueLocked(r, clientID, rt.accountID, rt.userID, now)
	s.mu.Unlock()
	writeTokens(w, resp, err)
}

// grantLocked returns (creating) the stats of k. s.mu must be held.
func (s *Sim) grantLocked(k grantKey) *grantStats {
	g, ok := s.grants[k]
	if !ok {
		g = &grantStats{}
		s.grants[k] = g
	}
	return g
}

// issueLocked mints an access and a refresh token of a customer's
// authorization. s.mu must be held.
func (s *Sim) issueLocked(r *http.Request, clientID, account, user string, now time.Time) (tokenResponse, error) {
	access, err := newToken()
	if err != nil {
		return tokenResponse{}, err
	}
	refresh, err := newToken()
	if err != nil {
		return tokenResponse{}, err
	}
	s.tokens[access] = session{accountID: account, userID: user, clientID: clientID, user: true, expires: now.Add(s.cfg.TokenTTL)}
	s.refresh[refresh] = refreshToken{clientID: clientID, accountID: account, userID: user, expires: now.Add(s.cfg.RefreshTokenTTL)}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return tokenResponse{
		AccessToken: access, TokenType: "bearer", RefreshToken: refresh,
		ExpiresIn: int64(s.cfg.TokenTTL.Seconds()), Scope: tokenScope + " " + userScope,
		APIURL: scheme + "://" + r.Host + "/zoom-sim",
	}, nil
}

func writeTokens(w http.ResponseWriter, resp tokenResponse, err error) {
	if err != nil {
		writeZoomError(w, http.StatusInternalServerError, http.StatusInternalServerError, "Internal error.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, "application/json", resp)
}

// revokeLocked ends k's authorization: every access and refresh token and
// unexchanged code of it. It reports how many tokens it removed. s.mu must
// be held.
func (s *Sim) revokeLocked(k grantKey) (access, refresh int) {
	for t, sess := range s.tokens {
		if sess.user && sess.clientID == k.clientID && sess.accountID == k.accountID {
			delete(s.tokens, t)
			access++
		}
	}
	for t, rt := range s.refresh {
		if rt.clientID == k.clientID && rt.accountID == k.accountID {
			delete(s.refresh, t)
			refresh++
		}
	}
	for c, ac := range s.codes {
		if ac.clientID == k.clientID && ac.accountID == k.accountID {
			delete(s.codes, c)
		}
	}
	if g, ok := s.grants[k]; ok {
		g.authorized = false
	}
	return access, refresh
}

// handleRevoke is POST /zoom-sim/oauth/revoke?token= (or token in the
// form) with HTTP Basic client credentials: an access or refresh token of a
// customer's authorization ends that authorization (every token of that
// account for the app); a server-to-server token is revoked alone. No
// app_deauthorized event is sent. 200 {"status":"success"}; an unknown
// token gets 400 "Invalid Token!".
func (s *Sim) handleRevoke(w http.ResponseWriter, r *http.Request) {
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
	tok := r.Form.Get("token")
	s.mu.Lock()
	s.expireLocked(s.now())
	found := true
	if sess, ok := s.tokens[tok]; ok && !sess.user {
		delete(s.tokens, tok)
	} else if ok && sess.clientID == id {
		s.revokeLocked(grantKey{clientID: id, accountID: sess.accountID})
	} else if rt, ok := s.refresh[tok]; ok && rt.clientID == id {
		s.revokeLocked(grantKey{clientID: id, accountID: rt.accountID})
	} else {
		found = false
	}
	s.mu.Unlock()
	if tok == "" || !found {
		writeJSON(w, http.StatusBadRequest, "application/json", oauthError{Reason: reasonInvalidToken, Error: "invalid_request"})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]string{"status": "success"})
}

// deauthorizeResult is the answer of POST /zoom-sim/admin/oauth/deauthorize.
type deauthorizeResult struct {
	RevokedAccessTokens  int    `json:"revoked_access_tokens"`
	RevokedRefreshTokens int    `json:"revoked_refresh_tokens"`
	Notified             bool   `json:"notified"`
	NotifyError          string `json:"notify_error,omitempty"`
}

// handleAdminDeauthorize is POST /zoom-sim/admin/oauth/deauthorize
// {"account_id","client_id"?}: the admin of account_id removes the app
// (client_id defaults to the simulator's app). Every token of that
// authorization stops working and the signed app_deauthorized event goes to
// the webhook. 404 when the account has not authorized the app.
func (s *Sim) handleAdminDeauthorize(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AccountID string `json:"account_id"`
		ClientID  string `json:"client_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	account := strings.TrimSpace(in.AccountID)
	if in.ClientID == "" {
		in.ClientID = s.cfg.ClientID
	}
	var bad []fieldProblem
	if account == "" {
		bad = append(bad, fieldProblem{Field: "account_id", Reason: "required"})
	}
	if in.ClientID != s.cfg.ClientID {
		bad = append(bad, fieldProblem{Field: "client_id", Reason: fmt.Sprintf("%q: no such app", in.ClientID)})
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid fields", bad...)
		return
	}
	sig := make([]byte, 32)
	if _, err := rand.Read(sig); err != nil {
		writeProblem(w, http.StatusInternalServerError, "random signature")
		return
	}
	k := grantKey{clientID: in.ClientID, accountID: account}
	s.mu.Lock()
	g, ok := s.grants[k]
	if !ok || !g.authorized {
		s.mu.Unlock()
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("account %s has not authorized app %s", account, in.ClientID))
		return
	}
	user := g.userID
	var out deauthorizeResult
	out.RevokedAccessTokens, out.RevokedRefreshTokens = s.revokeLocked(k)
	now := s.now()
	s.mu.Unlock()
	ev := zoom.DeauthorizedEvent{
		Event:   zoom.EventAppDeauthorized,
		EventTS: now.UnixMilli(),
		Payload: zoom.DeauthorizedPayload{
			AccountID: account, UserID: user, Signature: hex.EncodeToString(sig),
			DeauthorizationTime: now.UTC().Format("2006-01-02T15:04:05.000Z"), ClientID: in.ClientID,
		},
	}
	if s.cfg.WebhookURL != "" {
		if err := s.notify(r.Context(), ev); err != nil {
			slog.WarnContext(r.Context(), "zoomsim: app_deauthorized not delivered", "account", account, "error", err)
			out.NotifyError = err.Error()
		} else {
			out.Notified = true
		}
	}
	writeJSON(w, http.StatusOK, "application/json", out)
}

// AdminGrant is one account's authorization of the app as
// GET /zoom-sim/admin/oauth/grants shows it (never a token).
type AdminGrant struct {
	AccountID         string `json:"account_id"`
	ClientID          string `json:"client_id"`
	UserID            string `json:"user_id"`
	Authorized        bool   `json:"authorized"`
	LiveRefreshTokens int    `json:"live_refresh_tokens"`
	LiveAccessTokens  int    `json:"live_access_tokens"`
	Authorizations    int    `json:"authorizations"`
	Rotations         int    `json:"rotations"`
}

// Grants returns every authorization the simulator has seen, sorted by
// account then app.
func (s *Sim) Grants() []AdminGrant {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(s.now())
	out := make([]AdminGrant, 0, len(s.grants))
	idx := map[grantKey]int{}
	for k, g := range s.grants {
		idx[k] = len(out)
		out = append(out, AdminGrant{AccountID: k.accountID, ClientID: k.clientID, UserID: g.userID,
			Authorized: g.authorized, Authorizations: g.authorizations, Rotations: g.rotations})
	}
	for _, rt := range s.refresh {
		if i, ok := idx[grantKey{clientID: rt.clientID, accountID: rt.accountID}]; ok {
			out[i].LiveRefreshTokens++
		}
	}
	for _, sess := range s.tokens {
		if i, ok := idx[grantKey{clientID: sess.clientID, accountID: sess.accountID}]; ok && sess.user {
			out[i].LiveAccessTokens++
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AccountID != out[j].AccountID {
			return out[i].AccountID < out[j].AccountID
		}
		return out[i].ClientID < out[j].ClientID
	})
	return out
}

// handleAdminGrants is GET /zoom-sim/admin/oauth/grants.
func (s *Sim) handleAdminGrants(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", map[string][]AdminGrant{"grants": s.Grants()})
}

// me is the part of Zoom's GET /users/me answer the simulator gives.
type me struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Email     string `json:"email"`
	Type      int    `json:"type"`
	RoleName  string `json:"role_name"`
	Status    string `json:"status"`
}

// handleUsersMe is GET /zoom-sim/v2/users/me: the token's user and, what
// the service needs after an authorization, its account_id.
func (s *Sim) handleUsersMe(w http.ResponseWriter, r *http.Request) {
	account, user := accountOf(r.Context()), userOf(r.Context())
	role := "Member"
	if user == adminUserID(account) {
		role = "Admin"
	}
	writeJSON(w, http.StatusOK, "application/json", me{
		ID: user, AccountID: account, Email: user + "@" + account + ".zoomsim.invalid",
		Type: 2, RoleName: role, Status: "active",
	})
}

// ExpireAccessTokens ends every live access token of account's
// authorizations now (their refresh tokens stay), as if their hour had
// passed: the app's next calls get 401 and must refresh. It reports how
// many it ended.
func (s *Sim) ExpireAccessTokens(account string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for t, sess := range s.tokens {
		if sess.user && sess.accountID == account {
			delete(s.tokens, t)
			n++
		}
	}
	return n
}

// handleAdminExpire is POST /zoom-sim/admin/oauth/expire {"account_id"}:
// ExpireAccessTokens; 200 {"expired_access_tokens"}.
func (s *Sim) handleAdminExpire(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AccountID string `json:"account_id"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeProblem(w, http.StatusBadRequest, err.Error())
		return
	}
	if strings.TrimSpace(in.AccountID) == "" {
		writeProblem(w, http.StatusBadRequest, "invalid fields", fieldProblem{Field: "account_id", Reason: "required"})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]int{"expired_access_tokens": s.ExpireAccessTokens(strings.TrimSpace(in.AccountID))})
}
