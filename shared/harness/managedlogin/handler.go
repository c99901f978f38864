package managedlogin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// Prefix is where the stand-in is mounted on the local server; its
// endpoints are Cognito's domain paths below it (Prefix + "/oauth2/token").
const Prefix = "/local/cognito"

// codeTTL is how long an authorization code may wait for its exchange
// (Cognito's is 5 minutes).
const codeTTL = 5 * time.Minute

// Messages the managed login shows, in Cognito's words.
const (
	msgIncorrect = "Incorrect username or password."
	msgMissing   = "Enter your email address and password."
)

// Server is the stand-in's state: the codes not yet exchanged, and the
// refresh tokens it issued and those revoked since (the emulator has no
// RevokeToken, and answers a refresh token it never issued with a server
// error where Cognito answers NotAuthorized).
type Server struct {
	IDP  IDP
	Pool Pool
	Log  *slog.Logger

	mu      sync.Mutex
	codes   map[string]pendingCode
	issued  map[string]bool
	revoked map[string]bool
}

type pendingCode struct {
	tokens      *types.AuthenticationResultType
	redirectURI string
	challenge   string
	expires     time.Time
}

// authorizeParams are the authorize request's parameters, carried through
// the sign-in form.
type authorizeParams struct {
	ClientID, RedirectURI, State, Scope, Challenge string
}

// Handler serves the stand-in's endpoints under Prefix.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+Prefix+"/oauth2/authorize", s.authorize)
	mux.HandleFunc("POST "+Prefix+"/login", s.login)
	mux.HandleFunc("POST "+Prefix+"/oauth2/token", s.token)
	mux.HandleFunc("POST "+Prefix+"/oauth2/revoke", s.revoke)
	mux.HandleFunc("GET "+Prefix+"/logout", s.logout)
	mux.HandleFunc("POST "+Prefix+"/admin/sign-out", s.signOutEverywhere)
	return mux
}

// authorize shows the sign-in form after checking the request as Cognito
// does: the client, a registered redirect URI, the code grant, and (our
// pages' rule) PKCE with S256.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := authorizeParams{ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), State: q.Get("state"),
		Scope: q.Get("scope"), Challenge: q.Get("code_challenge")}
	if msg := s.checkClient(p.ClientID, p.RedirectURI); msg != "" {
		errorPage(w, msg)
		return
	}
	switch {
	case q.Get("response_type") != "code":
		redirectError(w, r, p, "unsupported_response_type", "response_type must be code")
	case p.Challenge == "" || q.Get("code_challenge_method") != "S256":
		redirectError(w, r, p, "invalid_request", "code_challenge with code_challenge_method S256 is required")
	default:
		loginPage(w, http.StatusOK, p, "", "")
	}
}

// login checks the password with the emulator's Cognito and sends the
// browser back with a code.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		errorPage(w, "the sign-in form could not be read")
		return
	}
	p := authorizeParams{ClientID: r.PostForm.Get("client_id"), RedirectURI: r.PostForm.Get("redirect_uri"),
		State: r.PostForm.Get("state"), Scope: r.PostForm.Get("scope"), Challenge: r.PostForm.Get("code_challenge")}
	if msg := s.checkClient(p.ClientID, p.RedirectURI); msg != "" || p.Challenge == "" {
		errorPage(w, "the sign-in form was not started by an authorize request")
		return
	}
	username, password := strings.TrimSpace(r.PostForm.Get("username")), r.PostForm.Get("password")
	if username == "" || password == "" {
		loginPage(w, http.StatusBadRequest, p, msgMissing, username)
		return
	}
	out, err := s.IDP.AdminInitiateAuth(r.Context(), &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(s.Pool.ID), ClientId: aws.String(s.Pool.ClientID),
		AuthFlow:       types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	})
	var notAuthorized *types.NotAuthorizedException
	var noUser *types.UserNotFoundException
	switch {
	case errors.As(err, &notAuthorized) || errors.As(err, &noUser):
		// One message for both, as Cognito's (user existence errors off).
		loginPage(w, http.StatusBadRequest, p, msgIncorrect, username)
		return
	case err != nil:
		s.Log.Error("managed login: check password", "err", err)
		loginPage(w, http.StatusBadGateway, p, "Sign-in is unavailable; try again.", username)
		return
	case out.AuthenticationResult == nil:
		// A new-password or MFA challenge: the demo users have neither.
		loginPage(w, http.StatusBadRequest, p, "This account needs a step the local sign-in does not offer ("+string(out.ChallengeName)+").", username)
		return
	}
	code := randomToken()
	s.mu.Lock()
	if s.codes == nil {
		s.codes = map[string]pendingCode{}
	}
	s.codes[code] = pendingCode{tokens: out.AuthenticationResult, redirectURI: p.RedirectURI, challenge: p.Challenge, expires: time.Now().Add(codeTTL)}
	s.mu.Unlock()
	back := url.Values{"code": {code}}
	if p.State != "" {
		back.Set("state", p.State)
	}
	http.Redirect(w, r, withQuery(p.RedirectURI, back), http.StatusFound)
}

// token is the token endpoint: the code exchange (with the PKCE verifier)
// and the refresh grant, answered as Cognito does.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	f := r.PostForm
	if f.Get("client_id") != s.Pool.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchange(w, f)
	case "refresh_token":
		s.refresh(w, r, f.Get("refresh_token"))
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

func (s *Server) exchange(w http.ResponseWriter, f url.Values) {
	s.mu.Lock()
	pc, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code")) // single use, whatever the outcome
	s.mu.Unlock()
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case !ok || time.Now().After(pc.expires) || pc.redirectURI != f.Get("redirect_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_grant")
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(pc.challenge)) != 1:
		oauthError(w, http.StatusBadRequest, "invalid_grant")
	default:
		s.mu.Lock()
		if s.issued == nil {
			s.issued = map[string]bool{}
		}
		s.issued[aws.ToString(pc.tokens.RefreshToken)] = true
		s.mu.Unlock()
		writeTokens(w, pc.tokens, true)
	}
}

func (s *Server) refresh(w http.ResponseWriter, r *http.Request, token string) {
	s.mu.Lock()
	known := s.issued[token] && !s.revoked[token]
	s.mu.Unlock()
	if !known {
		oauthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	out, err := s.IDP.AdminInitiateAuth(r.Context(), &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(s.Pool.ID), ClientId: aws.String(s.Pool.ClientID),
		AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: map[string]string{"REFRESH_TOKEN": token},
	})
	var notAuthorized *types.NotAuthorizedException
	switch {
	case errors.As(err, &notAuthorized):
		oauthError(w, http.StatusBadRequest, "invalid_grant")
	case err != nil:
		s.Log.Error("managed login: refresh", "err", err)
		oauthError(w, http.StatusInternalServerError, "internal_error")
	default:
		writeTokens(w, out.AuthenticationResult, false) // no rotation: the refresh token stays
	}
}

// revoke ends a refresh token, as Cognito's revocation endpoint does.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("token") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if r.PostForm.Get("client_id") != s.Pool.ClientID {
		oauthError(w, http.StatusBadRequest, "invalid_client")
		return
	}
	s.mu.Lock()
	if s.revoked == nil {
		s.revoked = map[string]bool{}
	}
	s.revoked[r.PostForm.Get("token")] = true
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// logout sends the browser to a registered logout URI. The stand-in keeps
// no sign-in session of its own, so there is nothing else to end.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if msg := s.checkClient(q.Get("client_id"), q.Get("logout_uri")); msg != "" {
		errorPage(w, msg)
		return
	}
	http.Redirect(w, r, q.Get("logout_uri"), http.StatusFound)
}

// signOutEverywhere ends every refresh token of a user (tests: a session
// that expires).
func (s *Server) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Username string `json:"username"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Username == "" {
		http.Error(w, `body must be {"username": "<email>"}`, http.StatusBadRequest)
		return
	}
	if _, err := s.IDP.AdminUserGlobalSignOut(r.Context(), &cip.AdminUserGlobalSignOutInput{
		UserPoolId: aws.String(s.Pool.ID), Username: aws.String(req.Username),
	}); err != nil {
		http.Error(w, "sign out: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// checkClient names what is wrong with a client id and redirect URI, or
// returns "".
func (s *Server) checkClient(clientID, redirectURI string) string {
	switch {
	case clientID != s.Pool.ClientID:
		return "unknown client_id"
	case !slices.Contains(s.Pool.CallbackURLs, redirectURI):
		return "redirect_mismatch: the redirect URI is not registered for this client"
	}
	return ""
}

func writeTokens(w http.ResponseWriter, t *types.AuthenticationResultType, withRefresh bool) {
	body := map[string]any{
		"id_token": aws.ToString(t.IdToken), "access_token": aws.ToString(t.AccessToken),
		"expires_in": t.ExpiresIn, "token_type": "Bearer",
	}
	if withRefresh {
		body["refresh_token"] = aws.ToString(t.RefreshToken)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// redirectError sends an OAuth error back to a registered redirect URI.
func redirectError(w http.ResponseWriter, r *http.Request, p authorizeParams, code, description string) {
	back := url.Values{"error": {code}, "error_description": {description}}
	if p.State != "" {
		back.Set("state", p.State)
	}
	http.Redirect(w, r, withQuery(p.RedirectURI, back), http.StatusFound)
}

func withQuery(base string, v url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + v.Encode()
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageHeaders are the stand-in pages' headers: no script at all.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/web/app.css"></head>
<body><main class="panel narrow">
<h1>Sign in</h1>
<p class="muted">Number Release · local sign-in (stands in for the Amazon Cognito managed login)</p>
{{if .Message}}<div class="notice error" role="alert" id="signin-error">{{.Message}}</div>{{end}}
<form method="post" action="` + Prefix + `/login">
<input type="hidden" name="client_id" value="{{.P.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.P.RedirectURI}}">
<input type="hidden" name="state" value="{{.P.State}}">
<input type="hidden" name="scope" value="{{.P.Scope}}">
<input type="hidden" name="code_challenge" value="{{.P.Challenge}}">
<div class="field"><label for="username">Email address</label>
<input id="username" name="username" type="email" autocomplete="username" value="{{.Username}}" required autofocus></div>
<div class="field"><label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required></div>
<button class="btn primary" type="submit">Sign in</button>
</form></main></body></html>
`))

// loginPage shows the sign-in form, with the email typed before (never the
// password) after a refusal.
func loginPage(w http.ResponseWriter, status int, p authorizeParams, message, username string) {
	pageHeaders(w)
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, struct {
		P                 authorizeParams
		Message, Username string
	}{P: p, Message: message, Username: username})
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title>
<link rel="stylesheet" href="/web/app.css"></head>
<body><main class="panel narrow"><h1>An error was encountered with the requested page.</h1>
<div class="notice error" role="alert">{{.}}</div></main></body></html>
`))

func errorPage(w http.ResponseWriter, message string) {
	pageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	_ = errorTemplate.Execute(w, message)
}
