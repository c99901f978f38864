package zoom_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/harness/testclock"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

const (
	clientID     = "client-id"
	clientSecret = "client-secret-must-not-leak"
)

// harness is a client talking to a simulator over real HTTP, with the
// simulator's traffic counted.
type harness struct {
	sim                   *zoomsim.Sim
	srv                   *httptest.Server
	simClock, clientClock *testclock.Clock
	client                *zoom.Client

	mu         sync.Mutex
	tokenCalls int
	calls      map[string]int // "METHOD path" → count, API calls only
	status401  int            // API answers with 401
	bearers    map[string]bool
	force401   bool
}

// options of newHarness.
type options struct {
	separateClocks bool   // sim and client clocks move independently
	secret         string // client secret; default the right one
}

func newHarness(t *testing.T, o options) *harness {
	t.Helper()
	h := &harness{simClock: testclock.New(), calls: map[string]int{}, bearers: map[string]bool{}}
	h.clientClock = h.simClock
	if o.separateClocks {
		h.clientClock = testclock.New()
	}
	h.sim = zoomsim.New(zoomsim.Config{ClientID: clientID, ClientSecret: clientSecret, Now: h.simClock.Now})
	h.srv = httptest.NewServer(h.wrap(h.sim.Handler()))
	t.Cleanup(h.srv.Close)
	secret := o.secret
	if secret == "" {
		secret = clientSecret
	}
	h.client = newClient(t, h.srv.URL, secret, h.clientClock.Now)
	return h
}

func newClient(t *testing.T, base, secret string, now func() time.Time) *zoom.Client {
	t.Helper()
	c, err := zoom.New(zoom.Config{
		APIBase: base + "/zoom-sim/v2", OAuthURL: base + "/zoom-sim/oauth/token",
		ClientID: clientID, ClientSecret: secret, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	w.status = s
	w.ResponseWriter.WriteHeader(s)
}

// wrap counts token requests and API calls and can force 401s.
func (h *harness) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/zoom-sim/v2/")
		h.mu.Lock()
		if r.URL.Path == "/zoom-sim/oauth/token" {
			h.tokenCalls++
		}
		force := api && h.force401
		if api {
			h.calls[r.Method+" "+r.URL.Path]++
			h.bearers[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] = true
		}
		h.mu.Unlock()
		if force {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":124,"message":"Invalid access token."}`))
			h.count401()
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if api && sw.status == http.StatusUnauthorized {
			h.count401()
		}
	})
}

func (h *harness) count401() {
	h.mu.Lock()
	h.status401++
	h.mu.Unlock()
}

// counts returns token requests, API calls to "METHOD path" and 401s.
func (h *harness) counts(call string) (tokens, calls, unauthorized int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tokenCalls, h.calls[call], h.status401
}

func (h *harness) setForce401(v bool) {
	h.mu.Lock()
	h.force401 = v
	h.mu.Unlock()
}

// checkNoSecrets fails if err's text holds the client secret or any access
// token the simulator saw.
func (h *harness) checkNoSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, clientSecret) {
		t.Errorf("error %q contains the client secret", msg)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for b := range h.bearers {
		if b != "" && strings.Contains(msg, b) {
			t.Errorf("error %q contains an access token", msg)
		}
	}
}

// present reports whether the simulator still holds e164.
func (h *harness) present(e164 string) bool {
	for _, n := range h.sim.Numbers() {
		if n.Number == e164 {
			return true
		}
	}
	return false
}
