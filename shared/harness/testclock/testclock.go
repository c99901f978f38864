// Package testclock is a clock a test moves by hand.
package testclock

import (
	"sync"
	"time"
)

// Clock is a time source that stands still until Advance moves it. It is
// safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock standing at a fixed time (2025-11-26T23:33:20Z).
func New() *Clock { return &Clock{t: time.Unix(1_764_200_000, 0)} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
