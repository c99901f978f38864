// Package pause waits: for a while, or until a time, unless the context
// ends first. Every retry loop and poll of the service waits through it.
package pause

import (
	"context"
	"time"
)

// For waits d, or until ctx ends, whichever comes first. It returns nil
// after the wait, ctx's error if ctx ended first (at once, without waiting,
// when d is not positive and ctx has already ended).
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Until waits from now until t, as For does.
func Until(ctx context.Context, now, t time.Time) error {
	return For(ctx, t.Sub(now))
}
