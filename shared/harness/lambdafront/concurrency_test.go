package lambdafront

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// gatedHandler counts its running invocations and holds each one until the
// gate is opened.
type gatedHandler struct {
	gate chan struct{}

	mu                  sync.Mutex
	running, maxRunning int
	finished            int
}

func (g *gatedHandler) handle(ctx context.Context) error {
	g.mu.Lock()
	g.running++
	g.maxRunning = max(g.maxRunning, g.running)
	g.mu.Unlock()
	<-g.gate
	g.mu.Lock()
	g.running--
	g.finished++
	g.mu.Unlock()
	return nil
}

func (g *gatedHandler) counts() (running, maxRunning, finished int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running, g.maxRunning, g.finished
}

func invokeRequest(fn string, event bool) *http.Request {
	r := httptest.NewRequest(http.MethodPost, invokePrefix+fn+"/invocations", strings.NewReader(`{}`))
	if event {
		r.Header.Set("X-Amz-Invocation-Type", "Event")
	}
	return r
}

// TestConcurrencyCap runs invocations at once against the account's cap,
// which every function counts against together: no more than the cap run
// together; a synchronous invocation over it is refused at once, an
// asynchronous (Event) one waits and runs later. Event invocations (of fn)
// are sent first, then the synchronous ones (of syncFn, fn by default).
func TestConcurrencyCap(t *testing.T) {
	tests := []struct {
		name          string
		limit         int
		events, syncs int
		syncFn        string
		wantRunning   int // handlers running once every invocation arrived
		wantThrottled int // synchronous invocations answered 429
	}{
		{name: "no cap", limit: 0, syncs: 6, wantRunning: 6},
		{name: "demand under the cap", limit: 10, syncs: 6, events: 3, wantRunning: 9},
		{name: "synchronous over the cap", limit: 2, syncs: 6, wantRunning: 2, wantThrottled: 4},
		{name: "events over the cap are queued", limit: 2, events: 6, wantRunning: 2},
		{name: "running events fill the cap, sync calls are refused", limit: 3, events: 5, syncs: 2, wantRunning: 3, wantThrottled: 2},
		{name: "events take the free slots, sync calls the rest", limit: 4, events: 2, syncs: 3, wantRunning: 4, wantThrottled: 1},
		{name: "another function's events fill the account", limit: 3, events: 5, syncs: 2, syncFn: "other", wantRunning: 3, wantThrottled: 2},
		{name: "two functions share the account's cap", limit: 4, events: 2, syncs: 3, syncFn: "other", wantRunning: 4, wantThrottled: 1},
		{name: "two functions under the cap", limit: 10, events: 3, syncs: 6, syncFn: "other", wantRunning: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, err := New("http://127.0.0.1:1", slog.New(slog.NewJSONHandler(io.Discard, nil)))
				if err != nil {
					t.Fatal(err)
				}
				g := &gatedHandler{gate: make(chan struct{})}
				f.Register("fn", g.handle)
				f.Register("other", g.handle)
				if err := f.SetAccountConcurrency(tt.limit); err != nil {
					t.Fatal(err)
				}
				syncFn := tt.syncFn
				if syncFn == "" {
					syncFn = "fn"
				}

				for range tt.events {
					rec := httptest.NewRecorder()
					f.ServeHTTP(rec, invokeRequest("fn", true))
					if rec.Code != http.StatusAccepted {
						t.Fatalf("Event invoke answered %d, want 202 (queued, never refused)", rec.Code)
					}
				}
				synctest.Wait()

				var mu sync.Mutex
				codes := map[int]int{}
				var calls sync.WaitGroup
				for range tt.syncs {
					calls.Go(func() {
						rec := httptest.NewRecorder()
						f.ServeHTTP(rec, invokeRequest(syncFn, false))
						mu.Lock()
						codes[rec.Code]++
						mu.Unlock()
					})
				}
				synctest.Wait()

				running, _, _ := g.counts()
				if running != tt.wantRunning {
					t.Errorf("%d handlers running, want %d", running, tt.wantRunning)
				}
				mu.Lock()
				if codes[http.StatusTooManyRequests] != tt.wantThrottled || len(codes) > 1 {
					t.Errorf("answers before release %v, want %d × 429 only", codes, tt.wantThrottled)
				}
				mu.Unlock()

				close(g.gate)
				calls.Wait()
				f.Wait()
				_, maxRunning, finished := g.counts()
				if want := tt.events + tt.syncs - tt.wantThrottled; finished != want {
					t.Errorf("%d invocations ran, want %d (every Event one, and the sync calls not refused)", finished, want)
				}
				if tt.limit > 0 && maxRunning > tt.limit {
					t.Errorf("%d handlers ran at once, cap %d", maxRunning, tt.limit)
				}
				if ok := codes[http.StatusOK]; ok != tt.syncs-tt.wantThrottled {
					t.Errorf("%d sync calls answered 200, want %d", ok, tt.syncs-tt.wantThrottled)
				}
			})
		})
	}
}

// A refused synchronous invoke is answered exactly as Lambda answers one
// over the account's concurrency, so SDKs and moto's Step Functions name it
// TooManyRequestsException.
func TestThrottledAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, err := New("http://127.0.0.1:1", slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		g := &gatedHandler{gate: make(chan struct{})}
		f.Register("fn", g.handle)
		if err := f.SetAccountConcurrency(1); err != nil {
			t.Fatal(err)
		}
		go f.ServeHTTP(httptest.NewRecorder(), invokeRequest("fn", false))
		synctest.Wait()

		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, invokeRequest("arn:aws:lambda:us-east-1:123456789012:function:fn:$LATEST", false))
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("status %d, want 429", rec.Code)
		}
		for h, want := range map[string]string{"X-Amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if rec.Header().Get("X-Amzn-RequestId") == "" {
			t.Error("no X-Amzn-RequestId")
		}
		var body, want any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
		_ = json.Unmarshal([]byte(`{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`), &want)
		if fmt.Sprint(body) != fmt.Sprint(want) {
			t.Errorf("body %s, want Lambda's TooManyRequestsException document", bytes.TrimSpace(rec.Body.Bytes()))
		}

		// Lifting the cap lets the next call through at once.
		if err := f.SetAccountConcurrency(0); err != nil {
			t.Fatal(err)
		}
		go f.ServeHTTP(httptest.NewRecorder(), invokeRequest("fn", false))
		synctest.Wait()
		if running, _, _ := g.counts(); running != 2 {
			t.Errorf("%d running after the cap was lifted, want 2", running)
		}
		close(g.gate)
	})
}

func TestSetAccountConcurrencyRefusesNegative(t *testing.T) {
	f, err := New("http://127.0.0.1:1", slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetAccountConcurrency(-1); err == nil || !strings.Contains(err.Error(), "account concurrency -1") {
		t.Errorf("SetAccountConcurrency(-1) = %v, want an error naming the value", err)
	}
}
