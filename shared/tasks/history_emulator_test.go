package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/lambdafront"
	"numberrelease/shared/harness/sqspoll"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
)

// moto runs the real state machine; it calls Lambda at the front (its
// MOTO_PORT), which answers with the real tasks handler. One server listens
// there for the whole test binary; each test puts its own front behind it
// (serveFront).
var (
	moto  = &emulatortest.Shared{}
	front atomic.Pointer[lambdafront.Front]
)

func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := front.Load()
		if f == nil {
			http.Error(w, "no Lambda front for this test", http.StatusServiceUnavailable)
			return
		}
		f.ServeHTTP(w, r)
	})}
	go func() { _ = hs.Serve(ln) }()
	moto.Options = emulator.Options{ExecuteStateMachines: true, MotoPort: ln.Addr().(*net.TCPAddr).Port}
	code := emulatortest.Run(m, moto)
	_ = hs.Close()
	os.Exit(code)
}

// serveFront answers moto's Lambda calls with f until t ends.
func serveFront(t *testing.T, f *lambdafront.Front) {
	t.Helper()
	front.Store(f)
	t.Cleanup(func() { front.Store(nil); f.Wait() })
}

// serveReleaseQueue creates a release queue on the emulator and feeds it to
// tk's release queue consumer until t ends, as release-batch's event
// source mapping does on AWS; it returns the queue's URL for the state
// machine's Release state.
func serveReleaseQueue(t *testing.T, srv *emulator.Server, tk *Tasks, client *sfn.Client) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	q := sqs.NewFromConfig(srv.AWSConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
	name := fmt.Sprintf("release-%d", time.Now().UnixNano())
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	c := &Consumer{Releaser: tk, Tokens: client, Queue: q, QueueURL: aws.ToString(created.QueueUrl), Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	p := &sqspoll.Poller{Client: q, QueueURL: aws.ToString(created.QueueUrl), BatchSize: workflow.ReleaseBatchSize,
		Window: workflow.ReleaseBatchWindowSeconds * time.Second, Concurrency: workflow.ReleaseBatchMaxConcurrency,
		Timeout: workflow.ReleaseBatchTimeoutSeconds * time.Second, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx, c.HandleSQS) }()
	t.Cleanup(func() { cancel(); <-done })
	return aws.ToString(created.QueueUrl)
}

// scriptedZoom keeps the number assigned until unassign, and throttles the
// calls whose (1-based) index is in throttle. Safe for concurrent use.
type scriptedZoom struct {
	mu         sync.Mutex
	unassigned bool
	calls      int
	throttle   map[int]bool
}

func (z *scriptedZoom) FindNumber(context.Context, string, string) (zoom.PhoneNumber, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls++
	if z.throttle[z.calls] {
		return zoom.PhoneNumber{}, &zoom.Error{Kind: zoom.Throttled, Message: "scripted 429"}
	}
	pn := zoom.PhoneNumber{ID: "pn_1", Number: num}
	if !z.unassigned {
		pn.Assignee = &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	}
	return pn, nil
}

func (z *scriptedZoom) RemoveNumbers(context.Context, string, []string) error { return nil }

// CarrierPeeringNumbers is carrier mode's lookup, which this customer-mode
// test must not reach.
func (z *scriptedZoom) CarrierPeeringNumbers(context.Context, string, []string) (map[string]zoom.PeeringNumber, error) {
	return nil, errors.New("scriptedZoom: the carrier's view is not used in customer mode")
}

func (z *scriptedZoom) RemovePeeringNumbers(context.Context, string, int, []string) ([]zoom.PeeringFailure, error) {
	return nil, nil
}

func (z *scriptedZoom) unassign() {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.unassigned = true
}

// TestLongWaitContinuesInFreshExecutions runs the real state machine on the
// emulator with the real tasks and store: a number stays assigned for
// several rounds of one-second re-checks, and every MaxRounds (2 here)
// rounds the wait goes on in a successor execution, which the number
// records; once Zoom shows it unassigned, the latest execution releases
// it. Each execution's real history is held to the history model
// (workflow.HistoryModel) state by state, including a retried check, so
// the model that sizes MaxRounds for production cannot drift from what
// Step Functions records.
func TestLongWaitContinuesInFreshExecutions(t *testing.T) {
	srv := moto.Server(t)
	ctx := context.Background()
	ddb, tableName := moto.NewTable(t)
	st := store.New(ddb, tableName)
	client := sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })

	// The second Zoom call (the second round's check) is throttled once:
	// the state's own retry (1 s, jittered) makes it a two-attempt check.
	z := &scriptedZoom{throttle: map[int]bool{2: true}}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	tk := New(st, z, &workflow.Successors{Client: client}, Config{Recheck: time.Second, MaxWait: time.Hour}, log)
	f, err := lambdafront.New(srv.Endpoint(), log)
	if err != nil {
		t.Fatal(err)
	}
	f.Register("release-tasks", tk.Handle)
	serveFront(t, f)

	params := workflow.Params{TasksFunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:release-tasks",
		ReleaseQueueURL: serveReleaseQueue(t, srv, tk, client), ReleaseTimeoutSeconds: workflow.DefaultReleaseTimeoutSeconds,
		ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: 2, ZoomThrottleMaxAttempts: 3, ZoomThrottleMaxDelaySeconds: 1, MaxRounds: 2}
	def, err := workflow.Render(params)
	if err != nil {
		t.Fatal(err)
	}
	model, err := workflow.NewHistoryModel(def)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("release-history"),
		Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/release")})
	if err != nil {
		t.Fatal(err)
	}
	wf := &workflow.StepFunctions{Client: client, StateMachineARN: aws.ToString(sm.StateMachineArn)}

	// Approved: RELEASING, attempt 1, its execution recorded, as an approval
	// writes it; then started, as start-release does.
	rel := workflow.Release{CustomerID: "acme", Number: num, Attempt: 1}
	if err := st.PutTenants(ctx, []domain.Customer{{ID: "acme", ZoomAccountID: "zoom-acme"}}, nil); err != nil {
		t.Fatal(err)
	}
	approveAndStart(ctx, t, st, wf, rel)

	// Two generations end after two rounds each; the third waits.
	gen := func(g int) string { r := rel; r.Generation = g; return r.ExecutionName() }
	waitFor(t, 2*time.Minute, "the number to record generation 2", func() (bool, string) {
		n, err := st.GetNumber(ctx, "acme", num)
		return err == nil && n.Execution == gen(2), fmt.Sprintf("%s, execution %q, err %v", n.Status, n.Execution, err)
	})
	z.unassign()
	waitFor(t, time.Minute, "the number to be RELEASED", func() (bool, string) {
		n, err := st.GetNumber(ctx, "acme", num)
		return err == nil && n.Status == domain.Released, fmt.Sprintf("%s (%s), err %v", n.Status, n.Message, err)
	})
	// The generation that released it: 2, or a later one if the machine was
	// slow enough for generation 2 to use up its rounds first.
	n, err := st.GetNumber(ctx, "acme", num)
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	for g := 2; g < 10 && last < 0; g++ {
		if n.Execution == gen(g) {
			last = g
		}
	}
	if last < 0 {
		t.Fatalf("the released number records execution %q; want a generation of %s", n.Execution, rel.ExecutionName())
	}
	waitFor(t, time.Minute, "the last generation to end", func() (bool, string) {
		ex, err := wf.Describe(ctx, gen(last))
		return err == nil && !ex.Running, fmt.Sprintf("%+v, %v", ex, err)
	})

	sum := func(path ...string) int {
		t.Helper()
		n, err := model.PathEvents(path...)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	waitRound := sum("NextRound", "Budget", "CheckAssignment", "Checked", "Route", "WaitForUnassign")
	retriedCheck, err := model.StateEvents("CheckAssignment", 2)
	if err != nil {
		t.Fatal(err)
	}
	oneCheck, _ := model.StateEvents("CheckAssignment", 1)
	continued := sum("NextRound", "Budget", "ContinueAsNew", "Continued") + 1 // with ExecutionSucceeded
	type generation struct {
		name string
		// want is the events before the first NextRound (with
		// ExecutionStarted), then of each round, the last one with the
		// execution's end; nil: wait rounds until the release (the last
		// generation, whose rounds depend on when Zoom changed).
		want []int
	}
	tests := []generation{{gen(0), []int{
		1 + sum("Begin", "Init"),
		waitRound,
		waitRound - oneCheck + retriedCheck, // the throttled check, retried once
		continued,
	}}}
	for g := 1; g < last; g++ {
		tests = append(tests, generation{gen(g), []int{1 + sum("Begin", "Resume"), waitRound, waitRound, continued}})
	}
	tests = append(tests, generation{gen(last), nil})
	var firstStart time.Time
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, status := history(t, client, wf.ExecutionARN(tt.name))
			if status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("status %s; want SUCCEEDED", status)
			}
			rounds := splitRounds(events)
			got := make([]int, len(rounds))
			for j, r := range rounds {
				got[j] = len(r)
			}
			if tt.want == nil { // the last generation: wait rounds, then the release
				tt.want = []int{1 + sum("Begin", "Resume")}
				for range len(rounds) - 2 {
					tt.want = append(tt.want, waitRound)
				}
				tt.want = append(tt.want, sum("NextRound", "Budget", "CheckAssignment", "Checked", "Route", "Release", "Released")+1)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("events before the first round, then per round: %v; the model says %v\n%s", got, tt.want, describe(rounds))
			}
			ex, err := wf.Describe(ctx, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				firstStart = ex.Started
			} else if d := ex.Started.Sub(firstStart); d < -time.Millisecond || d > time.Millisecond { // the API's dates have milliseconds
				t.Errorf("Describe says generation %d started %s; want generation 0's start %s (the deadline counts from there)", i, ex.Started, firstStart)
			}
		})
	}
}

// history reads an execution's events and status.
func history(t *testing.T, client *sfn.Client, arn string) ([]sfntypes.HistoryEvent, sfntypes.ExecutionStatus) {
	t.Helper()
	ctx := context.Background()
	var events []sfntypes.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(client, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("history of %s: %v", arn, err)
		}
		events = append(events, page.Events...)
	}
	d, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return events, d.Status
}

// splitRounds cuts a history before every entry into NextRound.
func splitRounds(events []sfntypes.HistoryEvent) [][]sfntypes.HistoryEvent {
	out := [][]sfntypes.HistoryEvent{nil}
	for _, e := range events {
		if e.StateEnteredEventDetails != nil && aws.ToString(e.StateEnteredEventDetails.Name) == "NextRound" {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], e)
	}
	return out
}

// describe lists the event types of each round, for a failure message.
func describe(rounds [][]sfntypes.HistoryEvent) string {
	var b strings.Builder
	for i, r := range rounds {
		fmt.Fprintf(&b, "%d:", i)
		for _, e := range r {
			fmt.Fprintf(&b, " %s", e.Type)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// waitFor polls cond until it holds, failing t after timeout with what it
// last saw.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last saw %s", timeout, what, seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// approveAndStart records rel's number requested and approved (RELEASING,
// its execution named), as a provider's request and an approval write it,
// then starts its execution, as start-release does.
func approveAndStart(ctx context.Context, t *testing.T, st *store.Store, wf *workflow.StepFunctions, rel workflow.Release) {
	t.Helper()
	pending, err := st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: rel.CustomerID, Number: rel.Number, ProviderID: "pxc",
		Status: domain.PendingApproval}, Actor: "provider:pxc", Why: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	approved := pending
	approved.Status, approved.Attempt, approved.Execution = domain.Releasing, rel.Attempt, rel.ExecutionName()
	if _, err := st.Apply(ctx, domain.Change{Prev: pending, Next: approved, Actor: "customer:acme/u", Why: "approved"}); err != nil {
		t.Fatal(err)
	}
	if err := wf.Start(ctx, rel); err != nil {
		t.Fatal(err)
	}
}
