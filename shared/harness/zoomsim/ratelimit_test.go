package zoomsim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

const (
	// listPath is a Light call; deletePath a Medium one (of an id the
	// account does not have: answered 400, but admitted and counted).
	listPath   = numbersPath + "?keyword=97239754571"
	deletePath = numbersPath + "?numbers=pn_1"
)

// burst is n calls of one account to one path, after advancing the clock.
type burst struct {
	account, method, path string
	n                     int
	advance               time.Duration
	wantOK, want429       int
}

func TestRateLimits(t *testing.T) {
	pro := &zoomsim.RateLimits{}
	tests := []struct {
		name      string
		rl        *zoomsim.RateLimits
		bursts    []burst
		retryHdr  string // Retry-After on the 429s
		wantLimit string // X-RateLimit-Limit on the 429s
	}{
		{"off by default", nil, []burst{{"acct-a", "GET", listPath, 50, 0, 50, 0}}, "", ""},
		{"Pro: 20 Light calls per second (the list)", pro, []burst{{"acct-a", "GET", listPath, 21, 0, 20, 1}}, "1", "20"},
		{"Pro: 10 Medium calls per second (the delete)", pro, []burst{{"acct-a", "DELETE", deletePath, 12, 0, 10, 2}}, "1", "10"},
		{"labels are counted apart", pro, []burst{
			{"acct-a", "GET", listPath, 20, 0, 20, 0},
			{"acct-a", "DELETE", deletePath, 10, 0, 10, 0},
			{"acct-a", "GET", listPath, 1, 0, 0, 1},
		}, "1", "20"},
		{"accounts are counted apart", pro, []burst{
			{"acct-a", "DELETE", deletePath, 11, 0, 10, 1},
			{"acct-b", "DELETE", deletePath, 10, 0, 10, 0},
		}, "1", "10"},
		{"the next second is a new window", pro, []burst{
			{"acct-a", "GET", listPath, 21, 0, 20, 1},
			{"acct-a", "GET", listPath, 21, time.Second, 20, 1},
		}, "1", "20"},
		{"Business+ limits", &zoomsim.RateLimits{Limits: zoom.BusinessLimits()}, []burst{{"acct-a", "GET", listPath, 45, 0, 40, 5}}, "1", "40"},
		{"custom limit, other labels Pro", &zoomsim.RateLimits{Limits: zoom.Limits{Medium: 3}}, []burst{
			{"acct-a", "DELETE", deletePath, 4, 0, 3, 1},
			{"acct-a", "GET", listPath, 20, 0, 20, 0},
		}, "1", "3"},
		{"Retry-After switched off", &zoomsim.RateLimits{NoRetryAfter: true}, []burst{{"acct-a", "GET", listPath, 21, 0, 20, 1}}, "", "20"},
		{"portal unbinds are not API calls", pro, []burst{
			{"", "DELETE", "/zoom-sim/v2/phone/users/u1/phone_numbers/%2B97239754569", 1, 0, 1, 0},
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, func(c *zoomsim.Config) { c.RateLimits = tt.rl })
			e.sim.Put("acct-a", "+97239754571", nil)
			e.sim.Put("acct-a", "+97239754572", nil)
			e.sim.Put("acct-a", "+97239754569", &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"})
			tokens := map[string]string{"acct-a": e.token(t, "acct-a"), "acct-b": e.token(t, "acct-b"), "": ""}
			total429 := 0
			for i, b := range tt.bursts {
				e.clock.Advance(b.advance)
				ok, limited := 0, 0
				for range b.n {
					r := e.do(t, b.method, b.path, tokens[b.account], "")
					switch {
					case r.status == http.StatusTooManyRequests:
						limited++
						checkRateLimited(t, r, tt.retryHdr, tt.wantLimit)
					case r.status/100 == 2 || (b.path == deletePath && r.status == http.StatusBadRequest):
						ok++
					default:
						t.Fatalf("burst %d: status %d (%s)", i+1, r.status, r.body)
					}
				}
				if ok != b.wantOK || limited != b.want429 {
					t.Fatalf("burst %d: %d admitted, %d answered 429; want %d, %d", i+1, ok, limited, b.wantOK, b.want429)
				}
				total429 += limited
			}
			if got := e.sim.Stats().RateLimited; got != total429 {
				t.Fatalf("Stats().RateLimited = %d; want %d", got, total429)
			}
		})
	}
}

// checkRateLimited checks a 429 of the rate limiter: Zoom's body and
// headers.
func checkRateLimited(t *testing.T, r response, retry, limit string) {
	t.Helper()
	code, msg := r.zoomErr(t)
	if code != zoom.CodeRateLimited || msg != "You have reached the maximum per-second rate limit for this API. Try again later." {
		t.Fatalf("429 body = %s", r.body)
	}
	want := map[string]string{"Retry-After": retry, "X-RateLimit-Type": "QPS", "X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "0"}
	for h, v := range want {
		if got := r.header.Get(h); got != v {
			t.Errorf("%s = %q; want %q", h, got, v)
		}
	}
	if r.header.Get("X-RateLimit-Category") == "" {
		t.Error("no X-RateLimit-Category")
	}
}

func TestRateLimitStats(t *testing.T) {
	e := newEnvWith(t, func(c *zoomsim.Config) { c.RateLimits = &zoomsim.RateLimits{} })
	e.sim.Put("acct-a", "+97239754571", nil)
	tok := e.token(t, "acct-a")
	for range 22 {
		e.do(t, "GET", listPath, tok, "")
	}
	e.clock.Advance(time.Second)
	for range 3 {
		e.do(t, "DELETE", deletePath, tok, "")
	}
	r := e.do(t, "GET", "/zoom-sim/admin/stats", "", "")
	var got zoomsim.Stats
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
		t.Fatalf("stats: %d %s", r.status, r.body)
	}
	if got.RateLimited != 2 || got.Calls[zoom.Light] != 20 || got.Calls[zoom.Medium] != 3 ||
		got.PeakPerSecond[zoom.Light] != 20 || got.PeakPerSecond[zoom.Medium] != 3 {
		t.Fatalf("stats = %s", r.body)
	}
	// Switching enforcement off at run time.
	e.sim.SetRateLimits(nil)
	for range 25 {
		if r := e.do(t, "GET", listPath, tok, ""); r.status != http.StatusOK {
			t.Fatalf("with limits off: %d", r.status)
		}
	}
}
