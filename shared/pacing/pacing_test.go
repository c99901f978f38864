package pacing

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/testclock"
	"numberrelease/shared/zoom"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

func TestInterval(t *testing.T) {
	for _, tc := range []struct {
		limits zoom.Limits
		want   time.Duration
	}{
		{zoom.ProLimits(), 200 * time.Millisecond},
		{zoom.BusinessLimits(), 100 * time.Millisecond},
		{zoom.Limits{}, 0},
	} {
		if got := Interval(tc.limits); got != tc.want {
			t.Errorf("Interval(%+v) = %s, want %s", tc.limits, got, tc.want)
		}
	}
}

// TestReserve runs reservations one after another against DynamoDB on the
// emulator: an idle queue starts now, a busy one goes on from its end, a
// drained one starts now again, and customers do not share a queue.
func TestReserve(t *testing.T) {
	emulatortest.SkipShort(t)
	ddb, name := emulatortest.NewTable(t)
	clk := testclock.New()
	t0 := clk.Now()
	p, err := New(Config{Client: ddb, Table: name, Interval: 200 * time.Millisecond, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ms := func(d int) time.Time { return t0.Add(time.Duration(d) * time.Millisecond) }
	steps := []struct {
		name     string
		at       time.Time
		customer string
		n        int
		want     []time.Time
	}{
		{"an idle queue starts now", t0, "acme", 3, []time.Time{ms(0), ms(200), ms(400)}},
		{"a busy queue goes on from its end", ms(100), "acme", 2, []time.Time{ms(600), ms(800)}},
		{"another customer has its own queue", ms(100), "globex", 1, []time.Time{ms(100)}},
		{"a queue reaching now is idle", ms(1000), "acme", 1, []time.Time{ms(1000)}},
		{"a drained queue starts now again", ms(5000), "acme", 2, []time.Time{ms(5000), ms(5200)}},
	}
	for _, s := range steps {
		clk.Advance(s.at.Sub(clk.Now())) // the steps' times never go back
		got, err := p.Reserve(context.Background(), s.customer, s.n)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if !slices.EqualFunc(got, s.want, time.Time.Equal) {
			t.Errorf("%s: starts %v, want %v", s.name, got, s.want)
		}
	}
}

// TestReserveConcurrently: reservations at once (stream batches of several
// shards) never get the same start, and leave no gap.
func TestReserveConcurrently(t *testing.T) {
	emulatortest.SkipShort(t)
	ddb, name := emulatortest.NewTable(t)
	const callers, each = 20, 5
	interval := 50 * time.Millisecond
	p, err := New(Config{Client: ddb, Table: name, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		all []time.Time
		wg  sync.WaitGroup
	)
	before := time.Now()
	for range callers {
		wg.Go(func() {
			got, err := p.Reserve(context.Background(), "acme", each)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			all = append(all, got...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(all) != callers*each {
		t.Fatalf("%d starts, want %d", len(all), callers*each)
	}
	slices.SortFunc(all, time.Time.Compare)
	if all[0].Before(before.Truncate(time.Millisecond)) {
		t.Errorf("first start %s is before the reservations began (%s)", all[0], before)
	}
	// The queue may have drained and restarted while the calls ran (their
	// own latency): starts are then further apart, never closer.
	for i := 1; i < len(all); i++ {
		if gap := all[i].Sub(all[i-1]); gap < interval {
			t.Errorf("starts %d and %d are %s apart, want at least %s", i-1, i, gap, interval)
		}
	}
}

func TestReserveRefusesBadInput(t *testing.T) {
	p := &Pacer{cfg: Config{Interval: time.Second, Now: time.Now}}
	for _, tc := range []struct {
		customer string
		n        int
	}{{"", 1}, {"acme", 0}, {"acme", MaxReserve + 1}} {
		if _, err := p.Reserve(context.Background(), tc.customer, tc.n); err == nil || !strings.Contains(err.Error(), "want a customer") {
			t.Errorf("Reserve(%q, %d) = %v, want an error naming what is wanted", tc.customer, tc.n, err)
		}
	}
	if _, err := New(Config{Table: "t", Interval: time.Second}); err == nil {
		t.Error("New without a client succeeded")
	}
}
