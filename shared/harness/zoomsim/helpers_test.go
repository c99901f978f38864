package zoomsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"numberrelease/shared/harness/testclock"
	"numberrelease/shared/harness/zoomsim"
)

const (
	clientID      = "sim-client"
	clientSecret  = "sim-secret-do-not-leak"
	webhookSecret = "local-webhook-secret"
)

// delivery is one request the test webhook received.
type delivery struct {
	header http.Header
	body   []byte
}

// webhook records notifications and answers with status.
type webhook struct {
	mu     sync.Mutex
	got    []delivery
	status int
	srv    *httptest.Server
}

func newWebhook(t *testing.T, status int) *webhook {
	t.Helper()
	wh := &webhook{status: status}
	wh.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		wh.mu.Lock()
		wh.got = append(wh.got, delivery{header: r.Header.Clone(), body: b})
		wh.mu.Unlock()
		w.WriteHeader(wh.status)
	}))
	t.Cleanup(wh.srv.Close)
	return wh
}

func (wh *webhook) deliveries() []delivery {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]delivery(nil), wh.got...)
}

// env is a simulator behind a real HTTP server.
type env struct {
	sim   *zoomsim.Sim
	srv   *httptest.Server
	clock *testclock.Clock
	hook  *webhook
}

func newEnv(t *testing.T) *env { return newEnvWith(t, nil) }

// newEnvWith is newEnv with the simulator's Config changed by mutate.
func newEnvWith(t *testing.T, mutate func(*zoomsim.Config)) *env {
	t.Helper()
	c := testclock.New()
	hook := newWebhook(t, http.StatusOK)
	cfg := zoomsim.Config{
		ClientID: clientID, ClientSecret: clientSecret,
		WebhookURL: hook.srv.URL + "/zoom/webhook", WebhookSecret: []byte(webhookSecret),
		Now: c.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	sim := zoomsim.New(cfg)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &env{sim: sim, srv: srv, clock: c, hook: hook}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// zoomErr decodes a Zoom error body.
func (r response) zoomErr(t *testing.T) (code int, msg string) {
	t.Helper()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e.Code, e.Message
}

// do sends a request; token "" sends no Authorization, body "" none.
func (e *env) do(t *testing.T, method, path, token, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// tokenRequest asks the OAuth endpoint for a token with the given Basic
// credentials and query.
func (e *env) tokenRequest(t *testing.T, id, secret, query string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/zoom-sim/oauth/token?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
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

// token returns a valid access token for account.
func (e *env) token(t *testing.T, account string) string {
	t.Helper()
	r := e.tokenRequest(t, clientID, clientSecret, "grant_type=account_credentials&account_id="+url.QueryEscape(account))
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token body %s: %v", r.body, err)
	}
	return tr.AccessToken
}

// listed is a number as GET /number_management/numbers lists it.
type listed struct {
	ID               string `json:"id"`
	Number           string `json:"number"`
	AllocatedProduct string `json:"allocated_product"`
	Status           string `json:"status"`
	Carrier          *struct {
		Code int `json:"code"`
	} `json:"carrier"`
	AssignedList []struct {
		ID              string `json:"assigned_to_id"`
		Name            string `json:"assigned_to_name"`
		Type            string `json:"assigned_to_type"`
		ExtensionNumber string `json:"extension_number"`
	} `json:"assigned_list"`
}

// list is a decoded page of GET /number_management/numbers.
type list struct {
	NextPageToken string   `json:"next_page_token"`
	PageSize      int      `json:"page_size"`
	Numbers       []listed `json:"numbers"`
}

const numbersPath = "/zoom-sim/v2/number_management/numbers"

func (e *env) list(t *testing.T, token, query string) list {
	t.Helper()
	r := e.do(t, http.MethodGet, numbersPath+"?"+query, token, "")
	if r.status != http.StatusOK {
		t.Fatalf("list %q: %d %s", query, r.status, r.body)
	}
	var l list
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatalf("list body: %v", err)
	}
	return l
}

// find returns the snapshot of one number, or false.
func find(sim *zoomsim.Sim, e164 string) (zoomsim.AdminNumber, bool) {
	for _, n := range sim.Numbers() {
		if n.Number == e164 {
			return n, true
		}
	}
	return zoomsim.AdminNumber{}, false
}

// newServer serves sim over HTTP for the test's lifetime.
func newServer(t *testing.T, sim *zoomsim.Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv
}
