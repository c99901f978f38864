package zoomsim

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"numberrelease/shared/zoom"
)

// RateLimits makes the simulator enforce Zoom's per-second rate limits: per
// account and label, in fixed one-second windows. A call over the limit is
// answered 429 with Zoom's body and X-RateLimit-* headers, and is not
// counted against the window.
type RateLimits struct {
	// Limits per label; zero fields take zoom.ProLimits.
	Limits zoom.Limits
	// NoRetryAfter leaves Retry-After off the 429s: Zoom does not always
	// send it.
	NoRetryAfter bool
}

// rateLimitMessage is Zoom's message for a per-second limit.
const rateLimitMessage = "You have reached the maximum per-second rate limit for this API. Try again later."

// Stats are counters of the simulator's API traffic.
type Stats struct {
	// RateLimited counts the 429s answered because a per-second limit was
	// exceeded (not those of injected faults).
	RateLimited int `json:"rate_limited"`
	// Calls counts the calls admitted under rate-limit enforcement, per
	// label.
	Calls map[zoom.Label]int `json:"calls"`
	// PeakPerSecond is the most calls one account made in one one-second
	// window, per label.
	PeakPerSecond map[zoom.Label]int `json:"peak_per_second"`
}

// windowKey names one account's window of one label.
type windowKey struct {
	account string
	label   zoom.Label
	second  int64
}

// limiter is the enforcement state. It has its own lock so that counting
// never waits on the numbers.
type limiter struct {
	mu      sync.Mutex
	cfg     *RateLimits
	windows map[windowKey]int
	newest  int64
	stats   Stats
}

func newLimiter(cfg *RateLimits) *limiter {
	l := &limiter{windows: map[windowKey]int{}, stats: Stats{Calls: map[zoom.Label]int{}, PeakPerSecond: map[zoom.Label]int{}}}
	l.set(cfg)
	return l
}

func (l *limiter) set(cfg *RateLimits) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg != nil {
		c := *cfg
		c.Limits = c.Limits.OrPro()
		cfg = &c
	}
	l.cfg = cfg
}

// admit counts one call of account under label at now. When the window is
// full it returns false and the headers of the 429.
func (l *limiter) admit(account string, label zoom.Label, now time.Time) (bool, http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cfg == nil || label == "" {
		return true, nil
	}
	sec := now.Unix()
	if sec > l.newest {
		// Windows more than a second old can no longer be hit.
		for k := range l.windows {
			if k.second < sec-1 {
				delete(l.windows, k)
			}
		}
		l.newest = sec
	}
	limit := l.cfg.Limits.Of(label)
	k := windowKey{account: account, label: label, second: sec}
	if l.windows[k] >= limit {
		l.stats.RateLimited++
		h := http.Header{}
		h.Set("X-RateLimit-Category", string(label))
		h.Set("X-RateLimit-Type", "QPS")
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", "0")
		if !l.cfg.NoRetryAfter {
			h.Set("Retry-After", "1") // the next window starts within a second
		}
		return false, h
	}
	l.windows[k]++
	l.stats.Calls[label]++
	l.stats.PeakPerSecond[label] = max(l.stats.PeakPerSecond[label], l.windows[k])
	return true, nil
}

func (l *limiter) snapshot() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := Stats{RateLimited: l.stats.RateLimited, Calls: map[zoom.Label]int{}, PeakPerSecond: map[zoom.Label]int{}}
	for k, v := range l.stats.Calls {
		out.Calls[k] = v
	}
	for k, v := range l.stats.PeakPerSecond {
		out.PeakPerSecond[k] = v
	}
	return out
}

// SetRateLimits turns rate-limit enforcement on with rl, or off with nil.
func (s *Sim) SetRateLimits(rl *RateLimits) { s.limits.set(rl) }

// Stats returns the traffic counters.
func (s *Sim) Stats() Stats { return s.limits.snapshot() }

// limited answers 429 when the token's account has used up label's
// window, and otherwise calls h. The web portal (consoleAccount) is not an
// API caller and is not limited.
func (s *Sim) limited(label zoom.Label, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		account := accountOf(r.Context())
		if account == consoleAccount {
			h(w, r)
			return
		}
		ok, hdr := s.limits.admit(account, label, s.now())
		if !ok {
			for k, v := range hdr {
				w.Header()[k] = v
			}
			writeZoomError(w, http.StatusTooManyRequests, zoom.CodeRateLimited, rateLimitMessage)
			return
		}
		h(w, r)
	}
}

// handleStats is GET /zoom-sim/admin/stats.
func (s *Sim) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", s.Stats())
}
