package httpapi

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// TenantLimiter is each caller's request budget: a token bucket per key (a
// customer tenant or a provider, from the verified token) that refills
// rate tokens per second up to burst. A request takes a token; without one
// it is answered 429 with Retry-After, before any work is done.
//
// The buckets live in the process: on AWS each instance of the api
// function keeps its own, so a caller spread over n warm instances can get
// up to n times its budget. It bounds what one caller costs each instance
// and tells a well-behaved client (the customer app) to slow down, at no
// cost per request; docs/SECURITY.md says why it is not shared.
type TenantLimiter struct {
	rate, burst float64
	mu          sync.Mutex
	buckets     map[string]*bucket
	swept       time.Time
}

// bucket is one caller's tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

// sweepEvery is how often buckets that have refilled (and so equal a new
// one) are dropped, so that the map holds only recent callers.
const sweepEvery = time.Minute

// NewTenantLimiter returns a limiter of rate requests per second with
// bursts of up to burst; both must be at least 1.
func NewTenantLimiter(rate, burst int) (*TenantLimiter, error) {
	if rate < 1 || burst < 1 {
		return nil, fmt.Errorf("tenant limit %d per second, burst %d: want both at least 1", rate, burst)
	}
	return &TenantLimiter{rate: float64(rate), burst: float64(burst), buckets: map[string]*bucket{}, swept: time.Now()}, nil
}

// Take takes a token of key's bucket. Without one, it returns false and how
// long until the bucket holds one again.
func (l *TenantLimiter) Take(key string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) >= sweepEvery {
		for k, b := range l.buckets {
			if l.refill(b, now) >= l.burst {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens, b.at = l.refill(b, now), now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// refill is b's tokens at now.
func (l *TenantLimiter) refill(b *bucket, now time.Time) float64 {
	return math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
}

// Limits returns the rate per second and the burst.
func (l *TenantLimiter) Limits() (rate, burst int) { return int(l.rate), int(l.burst) }

// retryAfterSeconds is a Retry-After value for a wait: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(wait time.Duration) int {
	return max(1, int(math.Ceil(wait.Seconds())))
}
