package webhooks

import "time"

// Backoff is the retry schedule of a failed delivery: the wait after
// attempt n (1-based) is Base·2^(n-1), at most Cap, and a delivery is tried
// MaxAttempts times in all. The wait is the message's visibility timeout,
// which SQS caps at 12 hours (MaxVisibility).
type Backoff struct {
	Base, Cap   time.Duration
	MaxAttempts int
}

// MaxVisibility is SQS's largest visibility timeout.
const MaxVisibility = 12 * time.Hour

// ProductionBackoff retries after 1, 2, 4, … minutes, at most 8 hours
// apart, 13 attempts in all: the last attempt comes 32 h 31 min after the
// first (Span), so every delivery is retried for more than 24 hours before
// it goes to the dead-letter queue.
func ProductionBackoff() Backoff {
	return Backoff{Base: time.Minute, Cap: 8 * time.Hour, MaxAttempts: 13}
}

// After is the wait after failed attempt n.
func (b Backoff) After(n int) time.Duration {
	d := b.Base
	for i := 1; i < n && d < b.Cap; i++ {
		d *= 2
	}
	return min(d, b.Cap, MaxVisibility)
}

// Span is the time from the first attempt to the last, without the
// attempts' own duration.
func (b Backoff) Span() time.Duration {
	var total time.Duration
	for n := 1; n < b.MaxAttempts; n++ {
		total += b.After(n)
	}
	return total
}
