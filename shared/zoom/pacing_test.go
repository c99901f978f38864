package zoom_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

// liveSim is a simulator on the real clock (rate-limit windows are real
// seconds), served over HTTP and counting API calls.
type liveSim struct {
	sim   *zoomsim.Sim
	srv   *httptest.Server
	calls atomic.Int64
}

func newLiveSim(t *testing.T, rl *zoomsim.RateLimits) *liveSim {
	t.Helper()
	ls := &liveSim{sim: zoomsim.New(zoomsim.Config{ClientID: clientID, ClientSecret: clientSecret, RateLimits: rl})}
	h := ls.sim.Handler()
	ls.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/zoom-sim/v2/") {
			ls.calls.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ls.srv.Close)
	return ls
}

func (ls *liveSim) client(t *testing.T, mutate func(*zoom.Config)) *zoom.Client {
	t.Helper()
	cfg := zoom.Config{APIBase: ls.srv.URL + "/zoom-sim/v2", OAuthURL: ls.srv.URL + "/zoom-sim/oauth/token",
		ClientID: clientID, ClientSecret: clientSecret}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := zoom.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestThrottleRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     zoomsim.Fault
		timeout   time.Duration // of the caller's context; 0: none
		wantKind  zoom.Kind
		wantCalls int64
		minTook   time.Duration
		maxTook   time.Duration
	}{
		{"Retry-After 1 s, then success", zoomsim.Fault{Status: 429, Count: 1, RetryAfter: time.Second}, 0, "", 2, time.Second, 3 * time.Second},
		{"Retry-After 1 s: retried twice, then Throttled", zoomsim.Fault{Status: 429, Count: -1, RetryAfter: time.Second}, 0, zoom.Throttled, 3, 2 * time.Second, 4 * time.Second},
		{"Retry-After 5 s is the longest waited out", zoomsim.Fault{Status: 429, Count: 1, RetryAfter: 5 * time.Second}, 0, "", 2, 5 * time.Second, 7 * time.Second},
		{"Retry-After 6 s: returned at once", zoomsim.Fault{Status: 429, Count: -1, RetryAfter: 6 * time.Second}, 0, zoom.Throttled, 1, 0, time.Second},
		{"no Retry-After: one jittered retry, then success", zoomsim.Fault{Status: 429, Count: 1}, 0, "", 2, 0, 500 * time.Millisecond},
		{"no Retry-After: one jittered retry, then Throttled", zoomsim.Fault{Status: 429, Count: -1}, 0, zoom.Throttled, 2, 0, 500 * time.Millisecond},
		{"a wait past the caller's deadline is not started", zoomsim.Fault{Status: 429, Count: -1, RetryAfter: 2 * time.Second}, time.Second, zoom.Throttled, 1, 0, 500 * time.Millisecond},
		{"503 is not retried here", zoomsim.Fault{Status: 503, Count: -1, RetryAfter: time.Second}, 0, zoom.Unavailable, 1, 0, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ls := newLiveSim(t, nil)
			ls.sim.Put("acct-a", "+97239754571", nil)
			c := ls.client(t, nil)
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			if _, err := c.FindNumber(ctx, "acct-a", "+97239754571"); err != nil { // token, then the fault
				t.Fatal(err)
			}
			ls.calls.Store(0)
			ls.sim.SetFault(tt.fault)
			start := time.Now()
			_, err := c.FindNumber(ctx, "acct-a", "+97239754571")
			took := time.Since(start)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind == "") != (err == nil) {
				t.Fatalf("err = %v; want kind %q", err, tt.wantKind)
			}
			if got := ls.calls.Load(); got != tt.wantCalls {
				t.Fatalf("API calls = %d; want %d", got, tt.wantCalls)
			}
			if took < tt.minTook || took > tt.maxTook {
				t.Fatalf("took %s; want %s to %s", took, tt.minTook, tt.maxTook)
			}
			var ze *zoom.Error
			if errors.As(err, &ze) && ze.Kind == zoom.Throttled && tt.fault.RetryAfter > 0 && ze.RetryAfter != tt.fault.RetryAfter {
				t.Fatalf("RetryAfter = %s; want %s", ze.RetryAfter, tt.fault.RetryAfter)
			}
		})
	}
}

// TestDailyLimitIsNotRetried: Zoom's daily-limit 429 (X-RateLimit-Type
// Daily-limit, Retry-After a time at midnight UTC) lasts hours; the client
// returns it at once with the time to wait.
func TestDailyLimitIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	reset := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			fmt.Fprint(w, `{"access_token":"t1","token_type":"bearer","expires_in":3600}`)
			return
		}
		calls.Add(1)
		w.Header().Set("X-RateLimit-Category", "Medium")
		w.Header().Set("X-RateLimit-Type", "Daily-limit")
		w.Header().Set("Retry-After", reset.Format(time.RFC3339))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"code":429,"message":"You have exceeded the daily rate limit of API requests for this account."}`)
	}))
	defer srv.Close()
	c, err := zoom.New(zoom.Config{APIBase: srv.URL, OAuthURL: srv.URL + "/oauth/token", ClientID: "i", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.FindNumber(context.Background(), "acct", "+97239754571")
	var ze *zoom.Error
	if !errors.As(err, &ze) || ze.Kind != zoom.Throttled || calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls; want Throttled after 1", err, calls.Load())
	}
	if ze.RetryAfter < 3*time.Hour-5*time.Second || ze.RetryAfter > 3*time.Hour || !strings.Contains(ze.Message, "Daily-limit") {
		t.Fatalf("RetryAfter = %s, message %q", ze.RetryAfter, ze.Message)
	}
}

// recorder is a Limiter that records what it is asked and can refuse.
type recorder struct {
	mu    sync.Mutex
	asked []string
	err   error
}

func (r *recorder) Wait(_ context.Context, accountID string, label zoom.Label) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, accountID+"/"+string(label))
	return r.err
}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.asked, " ")
	r.asked = nil
	return s
}

func TestEveryCallIsPacedUnderItsLabel(t *testing.T) {
	ls := newLiveSim(t, nil)
	for i := range 150 {
		ls.sim.Put("acct-a", fmt.Sprintf("+9723975%04d", i), nil)
	}
	ls.sim.PutPeering("acct-a", "+97239760001", 8801, nil)
	ls.sim.AddCarrier("carrier-a", 8801)
	rec := &recorder{}
	c := ls.client(t, func(cfg *zoom.Config) { cfg.Limiter = rec })
	ctx := context.Background()
	tests := []struct {
		name string
		op   func() error
		want string
	}{
		{"list (one page)", func() error { _, err := c.FindNumber(ctx, "acct-a", "+97239750007"); return err }, "acct-a/Light"},
		{"delete", func() error { return c.RemoveNumbers(ctx, "acct-a", []string{"pn_97239750007"}) }, "acct-a/Medium"},
		{"delete: 25 ids in three calls", func() error { return c.RemoveNumbers(ctx, "acct-a", ids(idOf, 10, 35)) }, "acct-a/Medium acct-a/Medium acct-a/Medium"},
		{"peering delete", func() error {
			_, err := c.RemovePeeringNumbers(ctx, "acct-a", 8801, []string{"+97239760001"})
			return err
		}, "acct-a/Light"},
		{"carrier view", func() error {
			_, err := c.CarrierPeeringNumbers(ctx, "carrier-a", []string{"+97239760001"})
			return err
		}, "carrier-a/Light"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); err != nil {
				t.Fatal(err)
			}
			if got := rec.take(); got != tt.want {
				t.Fatalf("limiter asked for %q; want %q", got, tt.want)
			}
		})
	}
	t.Run("a 401 retry is paced again", func(t *testing.T) {
		ls.sim.SetFault(zoomsim.Fault{Status: 401, Count: 1})
		if _, err := c.FindNumber(ctx, "acct-a", "+97239750008"); err != nil {
			t.Fatal(err)
		}
		if got := rec.take(); got != "acct-a/Light acct-a/Light" {
			t.Fatalf("limiter asked for %q", got)
		}
	})
}

func idOf(i int) string { return fmt.Sprintf("pn_9723975%04d", i) }

func TestLimiterRefusals(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind zoom.Kind
	}{
		{"no slot soon enough", &zoom.Error{Kind: zoom.Throttled, Message: "client-side pacing: no slot", RetryAfter: 3 * time.Second}, zoom.Throttled},
		{"limiter store down", errors.New("dynamodb: connection reset"), zoom.Unavailable},
		{"caller gave up", context.DeadlineExceeded, zoom.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := newLiveSim(t, nil)
			ls.sim.Put("acct-a", "+97239754571", nil)
			c := ls.client(t, func(cfg *zoom.Config) { cfg.Limiter = &recorder{err: tt.err} })
			_, err := c.FindNumber(context.Background(), "acct-a", "+97239754571")
			if zoom.KindOf(err) != tt.wantKind || !strings.Contains(err.Error(), "GET /number_management/numbers") {
				t.Fatalf("err = %v; want kind %q naming the call", err, tt.wantKind)
			}
			if ls.calls.Load() != 0 {
				t.Fatalf("%d API calls made without a slot", ls.calls.Load())
			}
		})
	}
}

// spacer is a zoom.Limiter that spaces all calls evenly.
type spacer struct{ l *rate.Limiter }

func (s spacer) Wait(ctx context.Context, _ string, _ zoom.Label) error { return s.l.Wait(ctx) }

// TestPacingKeepsWithinZoomsLimits: 60 concurrent lookups (Light calls)
// against a simulator enforcing 30 Light calls per second. Paced by a limiter at
// the same rate (spacer; the DynamoDB limiter is tested in
// shared/ratelimit) they all succeed within the limit; unpaced, the simulator
// answers 429s and the client's own retries (Retry-After 1 s) still get
// every lookup through.
func TestPacingKeepsWithinZoomsLimits(t *testing.T) {
	limits := zoom.Limits{Light: 30}
	tests := []struct {
		name    string
		limiter zoom.Limiter
	}{
		// Paced at 80% of the limit, as the service paces to a share of it:
		// the margin absorbs a busy machine's scheduling jitter.
		{"paced", spacer{rate.NewLimiter(rate.Limit(limits.Light)*0.8, 1)}},
		{"unpaced", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ls := newLiveSim(t, &zoomsim.RateLimits{Limits: limits})
			ls.sim.Put("acct-a", "+97239754571", nil)
			c := ls.client(t, func(cfg *zoom.Config) { cfg.Limiter = tt.limiter })
			var wg sync.WaitGroup
			var failed atomic.Int32
			start := time.Now()
			for range 60 {
				wg.Go(func() {
					if _, err := c.FindNumber(context.Background(), "acct-a", "+97239754571"); err != nil {
						failed.Add(1)
						t.Log(err)
					}
				})
			}
			wg.Wait()
			st := ls.sim.Stats()
			t.Logf("%s: 60 lookups in %s, %d answered 429, peak %d per second", tt.name,
				time.Since(start).Round(time.Millisecond), st.RateLimited, st.PeakPerSecond[zoom.Light])
			if failed.Load() != 0 {
				t.Fatalf("%d lookups failed", failed.Load())
			}
			if st.PeakPerSecond[zoom.Light] > 30 {
				t.Fatalf("peak %d calls in a second; Zoom allows 30", st.PeakPerSecond[zoom.Light])
			}
			// Paced calls are spaced, so only calls whose sends a busy
			// machine delayed and bunched can meet a 429; 60 unpaced calls
			// at once meet some (about 30 on a quiet machine).
			if tt.limiter != nil && st.RateLimited > 5 {
				t.Fatalf("paced calls met %d 429s", st.RateLimited)
			}
			if tt.limiter == nil && st.RateLimited == 0 {
				t.Fatal("60 unpaced calls at once met no 429; the simulator does not enforce its limit")
			}
		})
	}
}

func TestRemovePeeringNumbers(t *testing.T) {
	user := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	num := func(i int) string { return fmt.Sprintf("+9723976%04d", i) }
	const peeringCall = "DELETE /zoom-sim/v2/number_management/peering_numbers"
	tests := []struct {
		name      string
		carrier   int
		numbers   []string
		wantFail  []zoom.PeeringFailure
		wantKind  zoom.Kind
		wantCalls int
		gone      []string
		kept      []string
	}{
		{"removed", 8801, []string{num(0), num(1)}, nil, "", 1, []string{num(0), num(1)}, nil},
		{"without plus, duplicates collapse", 8801, []string{"97239760000", num(0)}, nil, "", 1, []string{num(0)}, nil},
		{"already removed is success", 8801, []string{num(0), num(9)}, nil, "", 1, []string{num(0)}, nil},
		{"assigned is Assigned, the rest removed", 8801, []string{num(0), num(2)},
			[]zoom.PeeringFailure{{Number: num(2), Reason: "Phone number is assigned; unassign it before removing it", Kind: zoom.Assigned}},
			"", 1, []string{num(0)}, []string{num(2)}},
		{"another carrier's number is Rejected with the reason", 8801, []string{num(3), num(4)},
			[]zoom.PeeringFailure{
				{Number: num(3), Reason: "Phone number was not added by this carrier", Kind: zoom.Rejected},
				{Number: num(4), Reason: "Phone number was not added by this carrier", Kind: zoom.Rejected},
			}, "", 1, nil, []string{num(3), num(4)}},
		{"unknown carrier code (Zoom 1001) is Rejected, not 'gone'", 99999999, []string{num(0)}, nil, zoom.Rejected, 1, nil, []string{num(0)}},
		{"no carrier code", 0, []string{num(0)}, nil, zoom.Rejected, 0, nil, []string{num(0)}},
		{"invalid number", 8801, []string{"hello"}, nil, zoom.Rejected, 0, nil, nil},
		{"240 numbers in two calls", 8801, seqNums(num, 10, 250), nil, "", 2, []string{num(10), num(11), num(249)}, []string{num(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, options{})
			h.sim.PutPeering("acct-a", num(0), 8801, nil)
			h.sim.PutPeering("acct-a", num(1), 8801, nil)
			h.sim.PutPeering("acct-a", num(2), 8801, user)
			h.sim.PutPeering("acct-a", num(3), 7700, nil)
			h.sim.Put("acct-a", num(4), nil)
			for i := 10; i < 250; i++ {
				h.sim.PutPeering("acct-a", num(i), 8801, nil)
			}
			fails, err := h.client.RemovePeeringNumbers(context.Background(), "acct-a", tt.carrier, tt.numbers)
			h.checkNoSecrets(t, err)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v; want kind %q", err, tt.wantKind)
			}
			if fmt.Sprint(fails) != fmt.Sprint(tt.wantFail) {
				t.Fatalf("failures = %+v; want %+v", fails, tt.wantFail)
			}
			if _, calls, _ := h.counts(peeringCall); calls != tt.wantCalls {
				t.Fatalf("calls = %d; want %d", calls, tt.wantCalls)
			}
			for _, n := range tt.gone {
				if h.present(n) {
					t.Errorf("%s still present", n)
				}
			}
			for _, n := range tt.kept {
				if !h.present(n) {
					t.Errorf("%s was removed", n)
				}
			}
		})
	}
}

func seqNums(f func(int) string, from, to int) []string {
	out := []string{}
	for i := from; i < to; i++ {
		out = append(out, f(i))
	}
	return out
}

// TestEveryCallHasATimeout: a Zoom that does not answer costs one timeout,
// whatever HTTP client the caller passed.
func TestEveryCallHasATimeout(t *testing.T) {
	tests := []struct {
		name string
		hc   *http.Client
	}{
		{"default HTTP client", nil},
		{"caller's HTTP client without a timeout", &http.Client{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls := newLiveSim(t, nil)
			ls.sim.Put("acct-a", "+97239754571", nil)
			c := ls.client(t, func(cfg *zoom.Config) { cfg.Timeout = 200 * time.Millisecond; cfg.HTTPClient = tt.hc })
			if _, err := c.FindNumber(context.Background(), "acct-a", "+97239754571"); err != nil {
				t.Fatal(err)
			}
			ls.sim.SetFault(zoomsim.Fault{Latency: 3 * time.Second, Count: -1})
			start := time.Now()
			for name, op := range map[string]func() error{
				"find":   func() error { _, err := c.FindNumber(context.Background(), "acct-a", "+97239754571"); return err },
				"remove": func() error { return c.RemoveNumbers(context.Background(), "acct-a", []string{"pn_97239754571"}) },
				"peering": func() error {
					_, err := c.RemovePeeringNumbers(context.Background(), "acct-a", 1, []string{"+97239754571"})
					return err
				},
			} {
				if err := op(); zoom.KindOf(err) != zoom.Unavailable {
					t.Fatalf("%s: err = %v; want Unavailable", name, err)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("three timed-out calls took %s", d)
			}
		})
	}
}

// TestLogsCarryNoSecrets: the debug request log names method, route,
// label, status and rate-limit headers, never the secret, a token or a
// query.
func TestLogsCarryNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	h := newHarness(t, options{})
	h.sim.Put("acct-a", "+97239754571", nil)
	h.sim.SetFault(zoomsim.Fault{Status: 429, Count: 1})
	if _, err := h.client.FindNumber(context.Background(), "acct-a", "+97239754571"); err != nil {
		t.Fatal(err)
	}
	if err := h.client.RemoveNumbers(context.Background(), "acct-a", []string{"pn_97239754571"}); err != nil {
		t.Fatal(err)
	}
	log := buf.String()
	for _, want := range []string{"path=/number_management/numbers", "label=Light", "label=Medium", "status=429", "status=200", "status=204", "zoom throttled; retrying"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for b := range h.bearers {
		if b != "" && strings.Contains(log, b) {
			t.Fatal("log contains an access token")
		}
	}
	if strings.Contains(log, clientSecret) || strings.Contains(log, "97239754571") || strings.Contains(log, "account_id") {
		t.Fatalf("log contains the secret or a query:\n%s", log)
	}
}

// TestLimitsOf: a label Zoom does not have has no limit.
func TestLimitsOf(t *testing.T) {
	if got := zoom.ProLimits().Of(zoom.Label("Enormous")); got != 0 {
		t.Errorf("limit of an unknown label = %d", got)
	}
}
