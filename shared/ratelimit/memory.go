package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"numberrelease/shared/zoom"
)

// Memory is a process-local limiter: one token bucket per (account, label)
// at the label's rate with a burst of one, so calls are evenly spaced and
// no one-second window holds more than the limit. It does not coordinate
// across processes; use DynamoDB for concurrent Lambdas. It is safe for
// concurrent use.
type Memory struct {
	limits  zoom.Limits
	maxWait time.Duration

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewMemory returns a Memory limiter; zero fields of limits take
// zoom.ProLimits and maxWait ≤ 0 means DefaultMaxWait.
func NewMemory(limits zoom.Limits, maxWait time.Duration) *Memory {
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	return &Memory{limits: limits.OrPro(), maxWait: maxWait, buckets: map[string]*rate.Limiter{}}
}

// Wait reserves the next token of (accountID, label) and sleeps until it.
// A token further away than the maximum wait (or ctx's deadline) is not
// taken: Wait returns a *zoom.Error of Kind Throttled at once.
func (m *Memory) Wait(ctx context.Context, accountID string, label zoom.Label) error {
	limit := m.limits.Of(label)
	if limit <= 0 {
		return &zoom.Error{Kind: zoom.Rejected, Message: fmt.Sprintf("client-side pacing: unknown rate-limit label %q", label)}
	}
	m.mu.Lock()
	b, ok := m.buckets[Key(accountID, label)]
	if !ok {
		b = rate.NewLimiter(rate.Limit(limit), 1)
		m.buckets[Key(accountID, label)] = b
	}
	m.mu.Unlock()
	now := time.Now()
	r := b.ReserveN(now, 1)
	d := r.DelayFrom(now)
	limitWait := m.maxWait
	if dl, ok := ctx.Deadline(); ok {
		limitWait = min(limitWait, dl.Sub(now))
	}
	if !r.OK() || d > limitWait {
		r.CancelAt(now)
		return &zoom.Error{Kind: zoom.Throttled, RetryAfter: max(time.Second, d.Round(time.Second)),
			Message: fmt.Sprintf("client-side pacing: no %s slot for Zoom account %s within %s (%d calls per second)",
				label, accountID, limitWait.Round(time.Millisecond), limit)}
	}
	if err := sleepUntil(ctx, now, now.Add(d)); err != nil {
		r.Cancel()
		return err
	}
	return nil
}
