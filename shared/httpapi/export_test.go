package httpapi

import (
	"testing"
	"time"
)

// SetIdempotencyWait shortens how long a duplicate waits for a request in
// progress, for the test's duration (tests of this package run one at a time).
func SetIdempotencyWait(t testing.TB, wait, poll time.Duration) {
	old := idemTiming
	idemTiming.wait, idemTiming.poll = wait, poll
	t.Cleanup(func() { idemTiming = old })
}

// BodyHash is the fingerprint an Idempotency-Key record keeps of a body.
var BodyHash = bodyHash

// Buckets is how many callers l remembers.
func Buckets(l *TenantLimiter) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
