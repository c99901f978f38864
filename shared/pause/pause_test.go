package pause_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"numberrelease/shared/pause"
)

// TestFor: a pause lasts its duration unless its context ends first, and a
// pause of nothing returns at once with the context's state.
func TestFor(t *testing.T) {
	tests := []struct {
		name     string
		d        time.Duration
		cancelAt time.Duration // 0: never cancelled
		wantErr  error
		wantTook time.Duration
	}{
		{"waits its duration", 3 * time.Second, 0, nil, 3 * time.Second},
		{"cut short by the context", time.Hour, 2 * time.Second, context.Canceled, 2 * time.Second},
		{"nothing to wait", 0, 0, nil, 0},
		{"negative: nothing to wait", -time.Second, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				start := time.Now()
				err := pause.For(ctx, tt.d)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || time.Since(start) != tt.wantTook {
					t.Fatalf("For(%s) = %v after %s; want %v after %s", tt.d, err, time.Since(start), tt.wantErr, tt.wantTook)
				}
			})
		})
	}
}

// TestEndedContext: with its context already ended, a pause of nothing
// says so at once.
func TestEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := pause.For(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("For(ended, 0) = %v; want context.Canceled", err)
	}
	if err := pause.For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("For(ended, 1h) = %v; want context.Canceled", err)
	}
}

// TestUntil waits up to a time given with the caller's now.
func TestUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		if err := pause.Until(t.Context(), now, now.Add(1500*time.Millisecond)); err != nil || time.Since(now) != 1500*time.Millisecond {
			t.Fatalf("Until = %v after %s; want nil after 1.5s", err, time.Since(now))
		}
	})
}
