package workflow_test

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/workflow"
)

// TestThrottleRetryBudget backs the sizing of the Zoom.Throttled retries
// (DefaultParams, devstack.Defaults) with a model of a 500-number approval
// at Pro limits: 500 executions, each needing two Medium calls in turn (the
// check's list, the release's delete) at 10 per second, paced as
// shared/ratelimit paces them (fixed one-second windows, a caller that gets
// the n-th ticket of a full window goes to the window its place points at,
// and gives up at once when that is beyond its 10 s maximum wait), a
// throttled step retried by the state machine (interval × 2^n capped,
// full jitter, each state's retries counted apart), optionally with the
// release-tasks function's concurrency capped (an invocation over the cap
// is Lambda.TooManyRequestsException, retried with the same budget). Every
// run must serve every number with retries to spare, near the 100 s bound.
// Since Zoom's Number Management API the list is a Light call (20 per
// second), so the model contends for one budget where Zoom now has two:
// it sizes the retries for more contention than there is.
func TestThrottleRetryBudget(t *testing.T) {
	local := devstack.Defaults()
	prod := workflow.DefaultParams("x", "https://sqs.us-east-1.amazonaws.com/123456789012/release")
	tests := []struct {
		name                  string
		interval, maxDelay, n int
		concurrency           int // release-tasks' reserved concurrency; 0: none
	}{
		{"production (DefaultParams)", prod.ZoomRetryIntervalSeconds, prod.ZoomThrottleMaxDelaySeconds, prod.ZoomThrottleMaxAttempts, 0},
		{"production, release-tasks capped at 10 concurrent", prod.ZoomRetryIntervalSeconds, prod.ZoomThrottleMaxDelaySeconds, prod.ZoomThrottleMaxAttempts, 10},
		{"local (devstack.Defaults)", 1, local.ZoomThrottleMaxDelaySeconds, local.ZoomThrottleMaxAttempts, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			worstRetries, worstDone := 0, 0.0
			for seed := range uint64(100) {
				retries, done, failed := model(rand.New(rand.NewPCG(seed, 7)), 500, 10, 10, float64(tt.interval), float64(tt.maxDelay), tt.n, tt.concurrency)
				if failed > 0 {
					t.Fatalf("seed %d: %d numbers throttled through all %d retries", seed, failed, tt.n)
				}
				worstRetries, worstDone = max(worstRetries, retries), max(worstDone, done)
			}
			t.Logf("100 runs: at most %d of %d retries used by one step; all released within %.0f s (bound 100 s)", worstRetries, tt.n, worstDone)
			if worstRetries*3/2 > tt.n {
				t.Fatalf("a step used %d of %d retries: less than half again as many to spare", worstRetries, tt.n)
			}
		})
	}
}

// event is one execution reaching a Zoom step at time at.
type event struct {
	at      float64
	id      int
	step    int // 0 check, 1 release
	retries int
}

type queue []event

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q queue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)        { *q = append(*q, x.(event)) }
func (q *queue) Pop() any          { old := *q; e := old[len(old)-1]; *q = old[:len(old)-1]; return e }

// model returns the most retries one step used, when the last number was
// released, and how many numbers ran out of retries.
func model(r *rand.Rand, numbers, limit int, maxWait, interval, maxDelay float64, attempts, concurrency int) (int, float64, int) {
	const (
		overhead = 0.05 // a state transition and an invocation
		call     = 0.3  // a Zoom call and the status write
	)
	windows := map[int64]int{}
	q := &queue{}
	for i := range numbers {
		heap.Push(q, event{at: r.Float64(), id: i})
	}
	var busy []float64 // when the invocations in flight end
	worst, last, failed := 0, 0.0, 0
	for q.Len() > 0 {
		e := heap.Pop(q).(event)
		busy = slices.DeleteFunc(busy, func(end float64) bool { return end <= e.at })
		w, served := int64(math.Floor(e.at)), -1.0
		for concurrency == 0 || len(busy) < concurrency {
			windows[w]++
			n := windows[w]
			if n <= limit {
				served = max(e.at, float64(w)+float64(n-1)/float64(limit))
				break
			}
			w += int64(max(1, (n-limit+limit-1)/limit))
			if float64(w)-e.at > maxWait {
				break
			}
		}
		if served >= 0 {
			busy = append(busy, served+call)
		} else {
			busy = append(busy, e.at+overhead)
		}
		switch {
		case served >= 0 && e.step == 0:
			heap.Push(q, event{at: served + call + overhead, id: e.id, step: 1})
		case served >= 0:
			last = max(last, served+call)
		case e.retries >= attempts:
			failed++
		default:
			delay := r.Float64() * min(maxDelay, interval*math.Pow(2, float64(e.retries)))
			worst = max(worst, e.retries+1)
			heap.Push(q, event{at: e.at + overhead + delay, id: e.id, step: e.step, retries: e.retries + 1})
		}
	}
	return worst, last, failed
}
