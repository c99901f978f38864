package zoomsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomsig"
)

const redirectURI = "http://localhost:8080/zoom/oauth/callback"

// pair is a token endpoint answer of a customer's authorization.
type pair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Scope        string `json:"scope"`
	APIURL       string `json:"api_url"`
}

// oauthErr is the token endpoint's error body.
type oauthErr struct {
	Reason string `json:"reason"`
	Error  string `json:"error"`
}

// postForm POSTs form to path with Basic credentials (none when id and
// secret are empty).
func (e *env) postForm(t *testing.T, path, id, secret string, form url.Values) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" || secret != "" {
		req.SetBasicAuth(id, secret)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// approveCode has account's admin allow the app and returns the code.
func (e *env) approveCode(t *testing.T, account string) string {
	t.Helper()
	r := e.do(t, http.MethodPost, "/zoom-sim/admin/oauth/approve", "",
		`{"account_id":"`+account+`","client_id":"`+clientID+`","redirect_uri":"`+redirectURI+`","state":"s1"}`)
	if r.status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	var out struct {
		Redirect string `json:"redirect"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(out.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("code")
}

// exchange trades a code for a pair.
func (e *env) exchange(t *testing.T, code string) pair {
	t.Helper()
	r := e.postForm(t, "/zoom-sim/oauth/token", clientID, clientSecret,
		url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}})
	return decodePair(t, r)
}

// refreshWith uses a refresh token.
func (e *env) refreshWith(t *testing.T, rt string) response {
	t.Helper()
	return e.postForm(t, "/zoom-sim/oauth/token", clientID, clientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

func decodePair(t *testing.T, r response) pair {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var p pair
	if err := json.Unmarshal(r.body, &p); err != nil || p.AccessToken == "" || p.RefreshToken == "" {
		t.Fatalf("token body %s: %v", r.body, err)
	}
	return p
}

func wantOAuthErr(t *testing.T, r response, status int, reason string) {
	t.Helper()
	var e oauthErr
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	if r.status != status || e.Reason != reason {
		t.Fatalf("got %d %+v; want %d reason %q", r.status, e, status, reason)
	}
}

// grant returns the admin view of account's authorization.
func (e *env) grant(t *testing.T, account string) zoomsim.AdminGrant {
	t.Helper()
	r := e.do(t, http.MethodGet, "/zoom-sim/admin/oauth/grants", "", "")
	var out struct {
		Grants []zoomsim.AdminGrant `json:"grants"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("grants %s: %v", r.body, err)
	}
	if strings.Contains(string(r.body), "sim.") {
		t.Fatalf("grants list shows a token: %s", r.body)
	}
	for _, g := range out.Grants {
		if g.AccountID == account {
			return g
		}
	}
	t.Fatalf("no grant for %s in %s", account, r.body)
	return zoomsim.AdminGrant{}
}

func TestApprove(t *testing.T) {
	tests := []struct {
		name       string
		redirects  []string
		body       string
		wantStatus int
		wantField  string
	}{
		{"localhost redirect", nil, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"` + redirectURI + `","state":"xyz"}`, http.StatusOK, ""},
		{"127.0.0.1 redirect", nil, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"https://127.0.0.1:9/cb"}`, http.StatusOK, ""},
		{"registered redirect", []string{"https://release.example/cb"}, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"https://release.example/cb"}`, http.StatusOK, ""},
		{"unregistered redirect", []string{"https://release.example/cb"}, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"` + redirectURI + `"}`, http.StatusBadRequest, "redirect_uri"},
		{"remote redirect without registration", nil, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"https://evil.example/cb"}`, http.StatusBadRequest, "redirect_uri"},
		{"not a URL scheme", nil, `{"account_id":"acct-a","client_id":"` + clientID + `","redirect_uri":"ftp://localhost/cb"}`, http.StatusBadRequest, "redirect_uri"},
		{"unknown client", nil, `{"account_id":"acct-a","client_id":"other","redirect_uri":"` + redirectURI + `"}`, http.StatusBadRequest, "client_id"},
		{"no account", nil, `{"client_id":"` + clientID + `","redirect_uri":"` + redirectURI + `"}`, http.StatusBadRequest, "account_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, func(c *zoomsim.Config) { c.RedirectURIs = tt.redirects })
			r := e.do(t, http.MethodPost, "/zoom-sim/admin/oauth/approve", "", tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.wantStatus)
			}
			if tt.wantField != "" {
				if !strings.Contains(string(r.body), `"field":"`+tt.wantField+`"`) {
					t.Fatalf("problem %s does not name %s", r.body, tt.wantField)
				}
				return
			}
			var out struct {
				Redirect string `json:"redirect"`
			}
			if err := json.Unmarshal(r.body, &out); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(out.Redirect)
			if err != nil || u.Query().Get("code") == "" {
				t.Fatalf("redirect %q has no code", out.Redirect)
			}
			var in struct {
				State string `json:"state"`
			}
			_ = json.Unmarshal([]byte(tt.body), &in)
			if got := u.Query().Get("state"); got != in.State {
				t.Fatalf("state = %q; want %q", got, in.State)
			}
			decodePair(t, e.postForm(t, "/zoom-sim/oauth/token", clientID, clientSecret, url.Values{
				"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
				"redirect_uri": {u.Scheme + "://" + u.Host + u.Path}}))
		})
	}
}

func TestAuthorizeRedirects(t *testing.T) {
	e := newEnv(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"state": {"st/ate"}, "account_id": {"acct-a"}}
	tests := []struct {
		name       string
		change     func(url.Values)
		wantStatus int
	}{
		{"allowed", func(url.Values) {}, http.StatusFound},
		{"no account (no consent page)", func(v url.Values) { v.Del("account_id") }, http.StatusBadRequest},
		{"wrong client", func(v url.Values) { v.Set("client_id", "other") }, http.StatusBadRequest},
		{"remote redirect", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, http.StatusBadRequest},
		{"token response type", func(v url.Values) { v.Set("response_type", "token") }, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range base {
				q[k] = append([]string(nil), v...)
			}
			tt.change(q)
			resp, err := noFollow.Get(e.srv.URL + "/zoom-sim/oauth/authorize?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d; want %d", resp.StatusCode, tt.wantStatus)
			}
			loc := resp.Header.Get("Location")
			if tt.wantStatus != http.StatusFound {
				if loc != "" {
					t.Fatalf("an invalid request redirected to %q", loc)
				}
				return
			}
			u, err := url.Parse(loc)
			if err != nil || u.Scheme+"://"+u.Host+u.Path != redirectURI || u.Query().Get("state") != "st/ate" {
				t.Fatalf("Location = %q", loc)
			}
			p := e.exchange(t, u.Query().Get("code"))
			if me := e.do(t, http.MethodGet, "/zoom-sim/v2/users/me", p.AccessToken, ""); !strings.Contains(string(me.body), `"account_id":"acct-a"`) {
				t.Fatalf("users/me = %s", me.body)
			}
		})
	}
}

func TestCodeExchange(t *testing.T) {
	tests := []struct {
		name       string
		secret     string
		redirect   string
		prepare    func(t *testing.T, e *env, code string) // before the exchange
		wantStatus int
		wantReason string
	}{
		{"happy", clientSecret, redirectURI, nil, http.StatusOK, ""},
		{"reused code", clientSecret, redirectURI, func(t *testing.T, e *env, code string) { e.exchange(t, code) },
			http.StatusBadRequest, "Invalid authorization code"},
		{"wrong redirect", clientSecret, "http://localhost:8080/other", nil, http.StatusBadRequest, "Redirect URI mismatch."},
		{"no redirect", clientSecret, "", nil, http.StatusBadRequest, "Redirect URI mismatch."},
		{"wrong secret", "nope", redirectURI, nil, http.StatusUnauthorized, "Invalid client_id or client_secret"},
		{"expired code", clientSecret, redirectURI, func(_ *testing.T, e *env, _ string) { e.clock.Advance(5 * time.Minute) },
			http.StatusBadRequest, "Invalid authorization code"},
		{"code just before expiry", clientSecret, redirectURI, func(_ *testing.T, e *env, _ string) { e.clock.Advance(5*time.Minute - time.Second) },
			http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Put("acct-a", "+14155550100", nil)
			e.sim.Put("acct-b", "+14155550200", nil)
			code := e.approveCode(t, "acct-a")
			if tt.prepare != nil {
				tt.prepare(t, e, code)
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
			if tt.redirect != "" {
				form.Set("redirect_uri", tt.redirect)
			}
			r := e.postForm(t, "/zoom-sim/oauth/token", clientID, tt.secret, form)
			if tt.wantStatus != http.StatusOK {
				wantOAuthErr(t, r, tt.wantStatus, tt.wantReason)
				return
			}
			p := decodePair(t, r)
			if p.TokenType != "bearer" || p.ExpiresIn != 3600 || !strings.Contains(p.Scope, "number_management:read:list_numbers:admin") ||
				p.APIURL != e.srv.URL+"/zoom-sim" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("pair = %+v, Cache-Control %q", p, r.header.Get("Cache-Control"))
			}
			// The token acts in acct-a only.
			l := e.list(t, p.AccessToken, "")
			if len(l.Numbers) != 1 || l.Numbers[0].Number != "+14155550100" {
				t.Fatalf("acct-a token lists %+v", l.Numbers)
			}
			if g := e.grant(t, "acct-a"); !g.Authorized || g.Authorizations != 1 || g.LiveRefreshTokens != 1 || g.LiveAccessTokens != 1 {
				t.Fatalf("grant = %+v", g)
			}
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	first := e.exchange(t, e.approveCode(t, "acct-a"))

	second := decodePair(t, e.refreshWith(t, first.RefreshToken))
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	t.Run("old refresh token fails", func(t *testing.T) {
		r := e.refreshWith(t, first.RefreshToken)
		wantOAuthErr(t, r, http.StatusBadRequest, "Invalid Token!")
		if !strings.Contains(string(r.body), `"error":"invalid_request"`) {
			t.Fatalf("body = %s", r.body)
		}
	})
	t.Run("new access token works", func(t *testing.T) {
		if r := e.do(t, http.MethodGet, numbersPath, second.AccessToken, ""); r.status != http.StatusOK {
			t.Fatalf("list: %d %s", r.status, r.body)
		}
	})
	third := decodePair(t, e.refreshWith(t, second.RefreshToken))
	t.Run("grants count rotations, not tokens", func(t *testing.T) {
		if g := e.grant(t, "acct-a"); g.Rotations != 2 || g.LiveRefreshTokens != 1 {
			t.Fatalf("grant = %+v", g)
		}
	})
	t.Run("refresh token of another client secret", func(t *testing.T) {
		r := e.postForm(t, "/zoom-sim/oauth/token", clientID, "nope", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third.RefreshToken}})
		wantOAuthErr(t, r, http.StatusUnauthorized, "Invalid client_id or client_secret")
	})
	t.Run("access token expires after an hour", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		r := e.do(t, http.MethodGet, numbersPath, third.AccessToken, "")
		if code, _ := r.zoomErr(t); r.status != http.StatusUnauthorized || code != zoom.CodeInvalidAccessToken {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
	})
	t.Run("refresh token expires after 90 days", func(t *testing.T) {
		e.clock.Advance(90*24*time.Hour - time.Hour)
		wantOAuthErr(t, e.refreshWith(t, third.RefreshToken), http.StatusBadRequest, "Invalid Token!")
	})
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	e := newEnv(t)
	p := e.exchange(t, e.approveCode(t, "acct-a"))
	const n = 20
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = e.refreshWith(t, p.RefreshToken).status
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusBadRequest:
		default:
			t.Fatalf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes succeeded; want exactly 1", ok, n)
	}
	if g := e.grant(t, "acct-a"); g.LiveRefreshTokens != 1 || g.Rotations != 1 {
		t.Fatalf("grant = %+v", g)
	}
}

func TestRevoke(t *testing.T) {
	tests := []struct {
		name  string
		token func(p pair) string
	}{
		{"by access token", func(p pair) string { return p.AccessToken }},
		{"by refresh token", func(p pair) string { return p.RefreshToken }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			p := e.exchange(t, e.approveCode(t, "acct-a"))
			other := e.exchange(t, e.approveCode(t, "acct-b"))
			s2s := e.token(t, "acct-a")
			r := e.postForm(t, "/zoom-sim/oauth/revoke", clientID, clientSecret, url.Values{"token": {tt.token(p)}})
			if r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":"success"`) {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			api := e.do(t, http.MethodGet, numbersPath, p.AccessToken, "")
			if code, msg := api.zoomErr(t); api.status != http.StatusUnauthorized || code != 124 || msg != "Invalid access token." {
				t.Fatalf("revoked access token: %d %s", api.status, api.body)
			}
			wantOAuthErr(t, e.refreshWith(t, p.RefreshToken), http.StatusBadRequest, "Invalid Token!")
			if g := e.grant(t, "acct-a"); g.Authorized || g.LiveRefreshTokens != 0 || g.LiveAccessTokens != 0 {
				t.Fatalf("grant after revoke = %+v", g)
			}
			// Another account's authorization and the server-to-server
			// token are untouched.
			if r := e.do(t, http.MethodGet, numbersPath, other.AccessToken, ""); r.status != http.StatusOK {
				t.Fatalf("acct-b token after acct-a revoke: %d", r.status)
			}
			if r := e.do(t, http.MethodGet, numbersPath, s2s, ""); r.status != http.StatusOK {
				t.Fatalf("server-to-server token after revoke: %d", r.status)
			}
			wantOAuthErr(t, e.postForm(t, "/zoom-sim/oauth/revoke", clientID, clientSecret, url.Values{"token": {tt.token(p)}}),
				http.StatusBadRequest, "Invalid Token!")
			if got := len(e.hook.deliveries()); got != 0 {
				t.Fatalf("revoke sent %d notifications", got)
			}
		})
	}
	t.Run("wrong client secret", func(t *testing.T) {
		e := newEnv(t)
		p := e.exchange(t, e.approveCode(t, "acct-a"))
		wantOAuthErr(t, e.postForm(t, "/zoom-sim/oauth/revoke", clientID, "nope", url.Values{"token": {p.AccessToken}}),
			http.StatusUnauthorized, "Invalid client_id or client_secret")
		if r := e.do(t, http.MethodGet, numbersPath, p.AccessToken, ""); r.status != http.StatusOK {
			t.Fatalf("token after a refused revoke: %d", r.status)
		}
	})
}

func TestDeauthorize(t *testing.T) {
	const verification = "sim-verification-token"
	e := newEnvWith(t, func(c *zoomsim.Config) { c.VerificationToken = verification })
	code := e.approveCode(t, "acct-a")
	p := e.exchange(t, code)
	refreshed := decodePair(t, e.refreshWith(t, p.RefreshToken))
	pending := e.approveCode(t, "acct-a") // approved again, not yet exchanged

	r := e.do(t, http.MethodPost, "/zoom-sim/admin/oauth/deauthorize", "", `{"account_id":"acct-a"}`)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `"notified":true`) ||
		!strings.Contains(string(r.body), `"revoked_access_tokens":2`) || !strings.Contains(string(r.body), `"revoked_refresh_tokens":1`) {
		t.Fatalf("deauthorize: %d %s", r.status, r.body)
	}

	t.Run("every token stops working", func(t *testing.T) {
		for _, tok := range []string{p.AccessToken, refreshed.AccessToken} {
			api := e.do(t, http.MethodGet, numbersPath, tok, "")
			if code, _ := api.zoomErr(t); api.status != http.StatusUnauthorized || code != zoom.CodeInvalidAccessToken {
				t.Fatalf("API after deauthorize: %d %s", api.status, api.body)
			}
		}
		wantOAuthErr(t, e.refreshWith(t, refreshed.RefreshToken), http.StatusBadRequest, "Invalid Token!")
		r := e.postForm(t, "/zoom-sim/oauth/token", clientID, clientSecret,
			url.Values{"grant_type": {"authorization_code"}, "code": {pending}, "redirect_uri": {redirectURI}})
		wantOAuthErr(t, r, http.StatusBadRequest, "Invalid authorization code")
	})
	t.Run("event delivered and signed", func(t *testing.T) {
		ds := e.hook.deliveries()
		if len(ds) != 1 {
			t.Fatalf("%d deliveries; want 1", len(ds))
		}
		d := ds[0]
		if err := zoomsig.Verify([]byte(webhookSecret), d.header.Get(zoomsig.HeaderSignature), d.header.Get(zoomsig.HeaderTimestamp),
			d.body, e.clock.Now(), zoomsig.DefaultTolerance); err != nil {
			t.Fatalf("signature: %v", err)
		}
		if got := d.header.Get("Authorization"); got != verification {
			t.Fatalf("Authorization = %q; want the verification token", got)
		}
		var ev map[string]any
		if err := json.Unmarshal(d.body, &ev); err != nil {
			t.Fatal(err)
		}
		pl, _ := ev["payload"].(map[string]any)
		if ev["event"] != "app_deauthorized" || ev["event_ts"] != float64(e.clock.Now().UnixMilli()) || pl == nil {
			t.Fatalf("event = %s", d.body)
		}
		want := map[string]any{"account_id": "acct-a", "user_id": "sim-admin-acct-a", "client_id": clientID,
			"deauthorization_time": e.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "user_data_retention": nil}
		for k, v := range want {
			if got, ok := pl[k]; !ok || got != v {
				t.Errorf("payload[%s] = %v; want %v", k, got, v)
			}
		}
		if sig, _ := pl["signature"].(string); len(sig) != 64 {
			t.Errorf("payload.signature = %v; want 64 hex digits", pl["signature"])
		}
	})
	t.Run("grants show it", func(t *testing.T) {
		if g := e.grant(t, "acct-a"); g.Authorized || g.LiveRefreshTokens != 0 || g.Rotations != 1 || g.Authorizations != 1 {
			t.Fatalf("grant = %+v", g)
		}
	})
	t.Run("re-authorization works again", func(t *testing.T) {
		np := e.exchange(t, e.approveCode(t, "acct-a"))
		if r := e.do(t, http.MethodGet, numbersPath, np.AccessToken, ""); r.status != http.StatusOK {
			t.Fatalf("new authorization: %d", r.status)
		}
	})

	errs := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{"not authorized", `{"account_id":"acct-z"}`, http.StatusNotFound},
		{"no account", `{}`, http.StatusBadRequest},
		{"other app", `{"account_id":"acct-a","client_id":"other"}`, http.StatusBadRequest},
		{"not JSON", `account_id=acct-a`, http.StatusBadRequest},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.hook.deliveries())
			r := e.do(t, http.MethodPost, "/zoom-sim/admin/oauth/deauthorize", "", tt.body)
			if r.status != tt.wantStatus || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status = %d %s; want %d problem", r.status, r.body, tt.wantStatus)
			}
			if after := len(e.hook.deliveries()); after != before {
				t.Fatal("a refused deauthorize sent an event")
			}
		})
	}
}

func TestUsersMe(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, http.MethodPost, "/zoom-sim/admin/oauth/approve", "",
		`{"account_id":"acct-a","user_id":"u-42","client_id":"`+clientID+`","redirect_uri":"`+redirectURI+`"}`)
	var out struct {
		Redirect string `json:"redirect"`
	}
	_ = json.Unmarshal(r.body, &out)
	u, _ := url.Parse(out.Redirect)
	userTok := e.exchange(t, u.Query().Get("code")).AccessToken
	tests := []struct {
		name       string
		token      string
		wantStatus int
		wantID     string
		wantAcct   string
	}{
		{"named user", userTok, http.StatusOK, "u-42", "acct-a"},
		{"admin by default", e.exchange(t, e.approveCode(t, "acct-b")).AccessToken, http.StatusOK, "sim-admin-acct-b", "acct-b"},
		{"server-to-server token", e.token(t, "acct-c"), http.StatusOK, "sim-admin-acct-c", "acct-c"},
		{"no token", "", http.StatusUnauthorized, "", ""},
		{"bad token", "sim.nope", http.StatusUnauthorized, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, http.MethodGet, "/zoom-sim/v2/users/me", tt.token, "")
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d %s", r.status, r.body)
			}
			if tt.wantStatus != http.StatusOK {
				if code, _ := r.zoomErr(t); code != zoom.CodeInvalidAccessToken {
					t.Fatalf("code = %d", code)
				}
				return
			}
			var m struct {
				ID        string `json:"id"`
				AccountID string `json:"account_id"`
				Status    string `json:"status"`
			}
			if err := json.Unmarshal(r.body, &m); err != nil || m.ID != tt.wantID || m.AccountID != tt.wantAcct || m.Status != "active" {
				t.Fatalf("me = %s", r.body)
			}
		})
	}
}
