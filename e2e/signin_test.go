package e2e

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/harness/managedlogin"
	"numberrelease/web"
)

// pagesConfig reads the pages' configuration as a browser does.
func pagesConfig(t *testing.T) web.AuthConfig {
	t.Helper()
	res, err := http.Get(base + web.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var cfg web.Config
	if err := json.NewDecoder(res.Body).Decode(&cfg); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", web.ConfigPath, res.StatusCode, err)
	}
	return cfg.Auth
}

// noRedirects is a browser that stops at each redirect, to read it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// tokens are the token endpoint's answer.
type tokens struct {
	IDToken      string `json:"id_token"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
	Error        string `json:"error"`
}

// signIn runs what the pages run: authorize with PKCE, the sign-in form,
// the redirect back with the code, and the code exchange. It returns the
// form's answer when no code came back.
func signIn(t *testing.T, cfg web.AuthConfig, page, email, password string) (tokens, int, string) {
	t.Helper()
	verifier := randomString(t)
	sum := sha256.Sum256([]byte(verifier))
	state := randomString(t)
	redirect := base + page
	q := url.Values{"response_type": {"code"}, "client_id": {cfg.ClientID}, "redirect_uri": {redirect}, "state": {state},
		"scope": {cfg.Scope}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	res, err := http.Get(cfg.AuthorizeURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	form := readAll(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(form, `name="password"`) {
		t.Fatalf("authorize: %d %s", res.StatusCode, form)
	}
	post := url.Values{"username": {email}, "password": {password}, "client_id": {cfg.ClientID}, "redirect_uri": {redirect},
		"state": {state}, "scope": {cfg.Scope}, "code_challenge": {q.Get("code_challenge")}}
	res, err = noRedirects.PostForm(base+managedlogin.Prefix+"/login", post)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res)
	if res.StatusCode != http.StatusFound {
		return tokens{}, res.StatusCode, body
	}
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(back.String(), redirect+"?") || back.Query().Get("state") != state {
		t.Fatalf("redirect back = %q, want %s?code&state=%s", res.Header.Get("Location"), redirect, state)
	}
	tok, status := tokenRequest(t, cfg, url.Values{"grant_type": {"authorization_code"}, "client_id": {cfg.ClientID},
		"code": {back.Query().Get("code")}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", status, tok.Error)
	}
	return tok, http.StatusFound, ""
}

func tokenRequest(t *testing.T, cfg web.AuthConfig, form url.Values) (tokens, int) {
	t.Helper()
	res, err := http.PostForm(cfg.TokenURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok tokens
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil {
		t.Fatalf("token endpoint: %d, body not JSON: %v", res.StatusCode, err)
	}
	return tok, res.StatusCode
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func randomString(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// problemDetail calls the API with a token and returns the status and the
// problem's detail.
func problemDetail(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p struct {
		Detail string `json:"detail"`
	}
	_ = json.NewDecoder(res.Body).Decode(&p)
	return res.StatusCode, p.Detail
}

// TestSignInThroughTheUserPool follows the pages' sign-in (authorization
// code with PKCE) with the demo users, and the API's answers to the
// tokens, through a refresh and the end of the session.
func TestSignInThroughTheUserPool(t *testing.T) {
	cfg := pagesConfig(t)

	t.Run("a wrong password is refused on the form, with no code", func(t *testing.T) {
		_, status, body := signIn(t, cfg, web.CustomerPath, "alice@acme.example", "not-the-password")
		if status != http.StatusBadRequest || !strings.Contains(body, "Incorrect username or password.") {
			t.Fatalf("wrong password: %d %s", status, body)
		}
		if !strings.Contains(body, `value="alice@acme.example"`) || strings.Contains(body, "not-the-password") {
			t.Errorf("the form again should keep the email and never the password: %s", body)
		}
		_, status, body = signIn(t, cfg, web.CustomerPath, "nobody@acme.example", devstack.DemoPassword)
		if status != http.StatusBadRequest || !strings.Contains(body, "Incorrect username or password.") {
			t.Fatalf("unknown user: %d %s (must not differ from a wrong password)", status, body)
		}
	})

	t.Run("each role's token reaches what that role may do", func(t *testing.T) {
		tests := []struct {
			email, page, path string
			want              int
		}{
			{"alice@acme.example", web.CustomerPath, "/v1/numbers?status=PENDING_APPROVAL", http.StatusOK},
			{"gina@globex.example", web.CustomerPath, "/v1/numbers", http.StatusOK},
			{"pat@pxc.example", web.PortalPath, "/provider/v1/customers/acme/numbers", http.StatusOK},
			{"pat@pxc.example", web.PortalPath, "/v1/numbers", http.StatusForbidden},
			{"alice@acme.example", web.CustomerPath, "/provider/v1/customers/acme/numbers", http.StatusForbidden},
			{"olive@ops.example", web.CustomerPath, "/v1/numbers", http.StatusForbidden},
		}
		for _, tt := range tests {
			tok, _, _ := signIn(t, cfg, tt.page, tt.email, devstack.DemoPassword)
			if status, detail := problemDetail(t, http.MethodGet, tt.path, tok.AccessToken); status != tt.want {
				t.Errorf("%s GET %s = %d (%s), want %d", tt.email, tt.path, status, detail, tt.want)
			}
		}
	})

	t.Run("the ID token is not a bearer token for the API", func(t *testing.T) {
		tok, _, _ := signIn(t, cfg, web.CustomerPath, "alice@acme.example", devstack.DemoPassword)
		if status, detail := problemDetail(t, http.MethodGet, "/v1/numbers", tok.IDToken); status != http.StatusUnauthorized ||
			detail != "token is not an access token (token_use must be access)" {
			t.Fatalf("ID token: %d %q", status, detail)
		}
	})

	t.Run("a code is single use and bound to its verifier", func(t *testing.T) {
		verifier := randomString(t)
		sum := sha256.Sum256([]byte(verifier))
		redirect := base + web.CustomerPath
		res, err := noRedirects.PostForm(base+managedlogin.Prefix+"/login", url.Values{"username": {"alice@acme.example"},
			"password": {devstack.DemoPassword}, "client_id": {cfg.ClientID}, "redirect_uri": {redirect},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, res)
		back, _ := url.Parse(res.Header.Get("Location"))
		code := back.Query().Get("code")
		exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {cfg.ClientID}, "code": {code}, "redirect_uri": {redirect}}
		exchange.Set("code_verifier", randomString(t))
		if tok, status := tokenRequest(t, cfg, exchange); status != http.StatusBadRequest || tok.Error != "invalid_grant" {
			t.Fatalf("wrong verifier: %d %q", status, tok.Error)
		}
		exchange.Set("code_verifier", verifier) // the right one, too late: the code is spent
		if tok, status := tokenRequest(t, cfg, exchange); status != http.StatusBadRequest || tok.Error != "invalid_grant" {
			t.Fatalf("spent code: %d %q", status, tok.Error)
		}
	})

	t.Run("refresh, then a session ended everywhere can no longer refresh", func(t *testing.T) {
		tok, _, _ := signIn(t, cfg, web.CustomerPath, "gina@globex.example", devstack.DemoPassword)
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {cfg.ClientID}, "refresh_token": {tok.RefreshToken}}
		fresh, status := tokenRequest(t, cfg, refresh)
		if status != http.StatusOK || fresh.AccessToken == "" || fresh.RefreshToken != "" {
			t.Fatalf("refresh: %d %+v (no new refresh token: Cognito does not rotate it)", status, fresh.Error)
		}
		if status, detail := problemDetail(t, http.MethodGet, "/v1/numbers", fresh.AccessToken); status != http.StatusOK {
			t.Fatalf("refreshed token: %d %s", status, detail)
		}
		res, err := http.Post(base+managedlogin.Prefix+"/admin/sign-out", "application/json", strings.NewReader(`{"username":"gina@globex.example"}`))
		if err != nil {
			t.Fatal(err)
		}
		if readAll(t, res); res.StatusCode != http.StatusNoContent {
			t.Fatalf("sign out everywhere: %d", res.StatusCode)
		}
		if again, status := tokenRequest(t, cfg, refresh); status != http.StatusBadRequest || again.Error != "invalid_grant" {
			t.Fatalf("refresh after sign-out: %d %q", status, again.Error)
		}
	})

	t.Run("a revoked refresh token is refused", func(t *testing.T) {
		tok, _, _ := signIn(t, cfg, web.PortalPath, "pat@pxc.example", devstack.DemoPassword)
		res, err := http.PostForm(cfg.RevokeURL, url.Values{"token": {tok.RefreshToken}, "client_id": {cfg.ClientID}})
		if err != nil {
			t.Fatal(err)
		}
		if readAll(t, res); res.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {cfg.ClientID}, "refresh_token": {tok.RefreshToken}}
		if again, status := tokenRequest(t, cfg, refresh); status != http.StatusBadRequest || again.Error != "invalid_grant" {
			t.Fatalf("refresh after revoke: %d %q", status, again.Error)
		}
		refresh.Set("refresh_token", "never-issued")
		if again, status := tokenRequest(t, cfg, refresh); status != http.StatusBadRequest || again.Error != "invalid_grant" {
			t.Fatalf("refresh with a token never issued: %d %q", status, again.Error)
		}
	})
}

// TestTokensTheAPIRefuses: only the stack's pool, through the pages'
// client, with one of our groups, gets in.
func TestTokensTheAPIRefuses(t *testing.T) {
	if stack == nil {
		t.Skip("needs the in-process system's emulator (not E2E_BASE_URL)")
	}
	ctx := t.Context()
	idp := stack.IDP
	password := devstack.DemoPassword

	// passwordToken signs a user in directly (the admin flow) with a client.
	passwordToken := func(t *testing.T, poolID, clientID, email string) string {
		t.Helper()
		out, err := idp.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID),
			AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth, AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password}})
		if err != nil || out.AuthenticationResult == nil {
			t.Fatalf("sign in %s: %v", email, err)
		}
		return aws.ToString(out.AuthenticationResult.AccessToken)
	}

	// Another pool, set up exactly like ours, with alice in acme's group.
	other, err := managedlogin.CreatePool(ctx, idp, managedlogin.PoolConfig{Name: "another-pool", Region: stack.AWSConfig().Region,
		CallbackURLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := managedlogin.AddUsers(ctx, idp, other.ID, []managedlogin.User{{Email: "alice@acme.example", Password: password, Group: "customer_admin:acme"}}); err != nil {
		t.Fatal(err)
	}
	// Another client of our pool.
	client, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(stack.Pool.ID), ClientName: aws.String("another-client"),
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth}})
	if err != nil {
		t.Fatal(err)
	}
	// A user of our pool in no group.
	if err := managedlogin.AddUsers(ctx, idp, stack.Pool.ID, []managedlogin.User{{Email: "nogroup@acme.example", Password: password}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		token  string
		status int
		detail string
	}{
		{"our pool, our client, acme's group", passwordToken(t, stack.Pool.ID, stack.Pool.ClientID, "alice@acme.example"), http.StatusOK, ""},
		{"another pool", passwordToken(t, other.ID, other.ClientID, "alice@acme.example"), http.StatusUnauthorized, "token issuer not accepted"},
		{"another client", passwordToken(t, stack.Pool.ID, aws.ToString(client.UserPoolClient.ClientId), "alice@acme.example"),
			http.StatusUnauthorized, "token was issued to another client"},
		{"no role group", passwordToken(t, stack.Pool.ID, stack.Pool.ClientID, "nogroup@acme.example"),
			http.StatusUnauthorized, "token lacks role claim (no Number Release group in cognito:groups)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, detail := problemDetail(t, http.MethodGet, "/v1/numbers", tt.token)
			if status != tt.status || (tt.detail != "" && detail != tt.detail) {
				t.Fatalf("GET /v1/numbers = %d %q, want %d %q", status, detail, tt.status, tt.detail)
			}
		})
	}
}
