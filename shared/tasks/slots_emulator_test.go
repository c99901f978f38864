package tasks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/lambdafront"
	"numberrelease/shared/slots"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
)

// gatedZoom holds every check's lookup until open is closed, then lets
// them through after a short delay; it records the most lookups in
// progress at once, and counts the removal calls (the release queue's
// consumer makes them, with its own concurrency, outside the slots).
type gatedZoom struct {
	open  chan struct{}
	delay time.Duration

	inFlight, most, removals atomic.Int32
}

func (z *gatedZoom) call() {
	n := z.inFlight.Add(1)
	defer z.inFlight.Add(-1)
	for {
		m := z.most.Load()
		if n <= m || z.most.CompareAndSwap(m, n) {
			break
		}
	}
	<-z.open
	time.Sleep(z.delay)
}

func (z *gatedZoom) FindNumber(_ context.Context, _, e164 string) (zoom.PhoneNumber, error) {
	z.call()
	return zoom.PhoneNumber{ID: "pn_" + e164, Number: e164}, nil
}

func (z *gatedZoom) CarrierPeeringNumbers(_ context.Context, _ string, numbers []string) (map[string]zoom.PeeringNumber, error) {
	z.call()
	out := map[string]zoom.PeeringNumber{}
	for _, n := range numbers {
		out[n] = zoom.PeeringNumber{Number: n, Active: true}
	}
	return out, nil
}

func (z *gatedZoom) RemoveNumbers(context.Context, string, []string) error {
	z.removals.Add(1)
	return nil
}

func (z *gatedZoom) RemovePeeringNumbers(context.Context, string, int, []string) ([]zoom.PeeringFailure, error) {
	z.call()
	return nil, nil
}

// TestConcurrencyCapOnTheEmulator runs 5N release executions at once on the
// real state machine, with the Lambda front's account cap far above N (so
// Lambda's throttling is not what limits them): release-tasks' lease
// semaphore lets at most N invocations work with Zoom at once; the others
// answer Tasks.Busy, which the state machine retries, and every number ends
// RELEASED. While the first N hold Zoom (it does not answer until the test
// says so), the others must be refused: the test waits for a Tasks.Busy
// before letting Zoom answer.
func TestConcurrencyCapOnTheEmulator(t *testing.T) {
	const size = 3
	const releases = 5 * size
	srv := moto.Server(t)
	ctx := context.Background()
	ddb, tableName := moto.NewTable(t)
	st := store.New(ddb, tableName)
	client := sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })

	sem, err := slots.New(slots.Config{Client: ddb, Table: tableName, Name: SlotsName, Size: size, Lease: config.ReleaseTasksSlotLease})
	if err != nil {
		t.Fatal(err)
	}
	z := &gatedZoom{open: make(chan struct{}), delay: 50 * time.Millisecond}
	opened := sync.OnceFunc(func() { close(z.open) })
	t.Cleanup(opened)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tk := New(st, z, &workflow.Successors{Client: client},
		Config{Recheck: time.Second, MaxWait: time.Hour, RetryPause: 2 * time.Second, Slots: sem}, log)
	var busy atomic.Int32
	f, err := lambdafront.New(srv.Endpoint(), log)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetAccountConcurrency(100); err != nil {
		t.Fatal(err)
	}
	f.Register("release-tasks", func(ctx context.Context, in Input) (any, error) {
		out, err := tk.Handle(ctx, in)
		if errType(err) == ErrTasksBusy {
			busy.Add(1)
		}
		return out, err
	})
	serveFront(t, f)

	def, err := workflow.Render(workflow.Params{TasksFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:release-tasks",
		ReleaseQueueURL: serveReleaseQueue(t, srv, tk, client), ReleaseTimeoutSeconds: workflow.DefaultReleaseTimeoutSeconds,
		ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: 2, ZoomThrottleMaxAttempts: 20, ZoomThrottleMaxDelaySeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("release-capped"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/release")})
	if err != nil {
		t.Fatal(err)
	}
	wf := &workflow.StepFunctions{Client: client, StateMachineARN: aws.ToString(sm.StateMachineArn)}

	if err := st.PutTenants(ctx, []domain.Customer{{ID: "acme", ZoomAccountID: "zoom-acme"}}, nil); err != nil {
		t.Fatal(err)
	}
	numbers := make([]string, releases)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+9723975%04d", i)
		approveAndStart(ctx, t, st, wf, workflow.Release{CustomerID: "acme", Number: numbers[i], Attempt: 1})
	}

	// Zoom holds the first calls: N of them take every slot, and the
	// other executions' checks are refused.
	waitFor(t, 2*time.Minute, "a check refused with Tasks.Busy while N calls hold Zoom", func() (bool, string) {
		return busy.Load() > 0, fmt.Sprintf("%d Zoom calls in progress, %d refused", z.inFlight.Load(), busy.Load())
	})
	waitFor(t, 30*time.Second, "every slot's holder to be in Zoom", func() (bool, string) {
		n := z.inFlight.Load()
		return n == size, fmt.Sprintf("%d Zoom calls in progress", n)
	})
	opened()
	waitFor(t, 3*time.Minute, "every number to be RELEASED", func() (bool, string) {
		done := 0
		for _, n := range numbers {
			got, err := st.GetNumber(ctx, "acme", n)
			if err == nil && got.Status == domain.Released {
				done++
			}
		}
		return done == releases, fmt.Sprintf("%d of %d RELEASED, %d Tasks.Busy answers", done, releases, busy.Load())
	})
	if most := z.most.Load(); most > size {
		t.Errorf("%d invocations worked with Zoom at once, want at most %d (the semaphore's size)", most, size)
	}
	// The numbers found free reach the release queue within its batching
	// window of each other, so their removals share calls.
	if n := z.removals.Load(); n >= releases {
		t.Errorf("%d removal calls for %d releases: the release queue's consumer did not batch them", n, releases)
	}
	t.Logf("%d releases, at most %d Zoom lookups at once, %d Tasks.Busy answers retried, %d removal calls", releases, z.most.Load(), busy.Load(), z.removals.Load())
}
