package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/store"
)

// system is the local system (make run's, shared/harness/devstack) with its AWS
// calls counted, and uncounted clients for the bench's own reads, so that
// polling and inspecting never show up in the counts.
type system struct {
	stack *devstack.Stack
	calls *devstack.CallCounter
	// logs counts the system's log records, debug ones included.
	logs *tally
	// motoPID and motoLog are the emulator's process and the file its
	// output goes to (0 and "" when they could not be found).
	motoPID int
	motoLog string
	// sfn and store read the emulator without being counted.
	sfn   *sfn.Client
	store *store.Store
	// prevLog is the default logger before the system's took its place.
	prevLog *slog.Logger
}

// sysOptions are how a run starts the local system.
type sysOptions struct {
	// log receives the system's log records at info level and above
	// (nil: none are kept).
	log io.Writer
	// noReconcile turns the reconciler's schedule off (devstack's default
	// runs it every 15 s, as make run does).
	noReconcile bool
	// carrierCode, when set, runs the system in carrier release mode as
	// that carrier (devstack's default carrier account).
	carrierCode int
}

// startSystem starts the local system with devstack's defaults (Zoom Pro
// limits, demo tenants, the dev stage's concurrency caps, the
// reconciler's schedule) on a free port. Its logger is also the default
// logger until close: shared/zoom logs its retries there.
func startSystem(ctx context.Context, opts sysOptions) (*system, error) {
	if os.Getenv("MOTO_PYTHON") == "" {
		return nil, errors.New("MOTO_PYTHON is not set: run through `make bench`, which installs the emulator into .venv")
	}
	out := opts.log
	if out == nil {
		out = io.Discard
	}
	logs := newTally()
	log := slog.New(tallyHandler{next: slog.NewJSONHandler(out, nil), t: logs})
	calls := &devstack.CallCounter{}
	cfg := devstack.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.Log = log
	cfg.AWSCalls = calls
	if opts.noReconcile {
		cfg.ReconcileEvery = 0
	}
	if opts.carrierCode > 0 {
		cfg.ReleaseMode, cfg.CarrierCode = domain.ModeCarrier, opts.carrierCode
	}
	stack, err := devstack.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start the local system: %w", err)
	}
	awsCfg := stack.AWSConfig()
	prev := slog.Default()
	slog.SetDefault(log)
	s := &system{
		stack: stack, calls: calls, logs: logs, prevLog: prev,
		sfn:   sfn.NewFromConfig(awsCfg),
		store: store.New(dynamodb.NewFromConfig(awsCfg), devstack.TableName),
	}
	if s.motoPID, s.motoLog, err = motoProcess(); err != nil {
		logf("   the emulator's process: %v (its CPU time and answers are not reported)", err)
	}
	return s, nil
}

// readMotoLog reads what moto has logged so far (before close, which
// removes the file).
func (s *system) readMotoLog() motoLog {
	if s.motoLog == "" {
		return motoLog{}
	}
	m, err := readMotoLog(s.motoLog)
	if err != nil {
		logf("   %v", err)
	}
	return m
}

func (s *system) close() {
	slog.SetDefault(s.prevLog)
	if err := s.stack.Close(); err != nil {
		logf("   stop the local system: %v", err)
	}
}

// customer and provider return API clients with local tokens.
func (s *system) customer(tenant string) (client, error) {
	t, err := token(s.stack.URL, map[string]string{"kind": "customer", "tenant_id": tenant, "sub": "alice"})
	if err != nil {
		return client{}, fmt.Errorf("token of customer %s: %w", tenant, err)
	}
	return client{s.stack.URL, t}, nil
}

func (s *system) provider(id string) (client, error) {
	t, err := token(s.stack.URL, map[string]string{"kind": "provider", "provider_id": id})
	if err != nil {
		return client{}, fmt.Errorf("token of provider %s: %w", id, err)
	}
	return client{s.stack.URL, t}, nil
}

func (s *system) anon() client { return client{base: s.stack.URL} }

// waitQuiet waits until the system has made no counted call (the stream
// poller's reads aside) for a second, five of the poller's intervals, so
// that a snapshot taken after it holds everything the last flow caused,
// the PutEvents of its last status change included.
func (s *system) waitQuiet(within time.Duration) error {
	const quietFor = time.Second
	deadline := time.Now().Add(within)
	last, since := activity(s.calls.Snapshot()), time.Now()
	for time.Since(since) < quietFor {
		if time.Now().After(deadline) {
			return fmt.Errorf("the system kept calling AWS for %s after the flow", within)
		}
		time.Sleep(100 * time.Millisecond)
		if n := activity(s.calls.Snapshot()); n != last {
			last, since = n, time.Now()
		}
	}
	return nil
}

// activity sums the counts, the pollers' reads aside.
func activity(c devstack.CallCounts) int {
	n := 0
	for call, v := range c.Calls {
		// The release queue's poller receives (long polls) all the time,
		// as the stream poller reads.
		idle := call.Service == dynamodbstreams.ServiceID || (call.Service == sqs.ServiceID && call.Operation == "ReceiveMessage")
		if !idle {
			n += v
		}
	}
	for _, v := range c.Invokes {
		n += v
	}
	return n
}

// waitStatus polls the number's stored state every 50 ms until it is want.
func (s *system) waitStatus(ctx context.Context, customerID, num string, want domain.Status, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last domain.Status
	for time.Now().Before(deadline) {
		n, err := s.store.GetNumber(ctx, customerID, num)
		if err != nil {
			return fmt.Errorf("read %s: %w", num, err)
		}
		if last = n.Status; last == want {
			return nil
		}
		if last == domain.Failed || last == domain.PendingApproval {
			return fmt.Errorf("%s is %s while waiting for %s", num, last, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s still %s after %s; want %s", num, last, timeout, want)
}

// listed returns the numbers of want in one status of the customer's
// listing (the index the customer's list reads), page by page.
func (s *system) listed(ctx context.Context, customerID string, status domain.Status, want map[string]bool) ([]domain.Number, error) {
	var out []domain.Number
	cursor := ""
	for {
		page, err := s.store.ListNumbers(ctx, domain.ListQuery{CustomerID: customerID, Status: status, Limit: domain.MaxPageSize, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("list %s numbers of %s: %w", status, customerID, err)
		}
		for _, it := range page.Items {
			if want[it.Number] {
				out = append(out, it)
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

// executionStatuses counts the executions whose names start with prefix by
// status.
func (s *system) executionStatuses(ctx context.Context, prefix string) (map[sfntypes.ExecutionStatus]int, error) {
	out := map[sfntypes.ExecutionStatus]int{}
	p := sfn.NewListExecutionsPaginator(s.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.stack.StateMachineARN), MaxResults: 100})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		for _, e := range page.Executions {
			if strings.HasPrefix(aws.ToString(e.Name), prefix) {
				out[e.Status]++
			}
		}
	}
	return out, nil
}

// waitExecutionsEnded waits until no execution named prefix… is RUNNING and
// returns the count by status.
func (s *system) waitExecutionsEnded(ctx context.Context, prefix string, timeout time.Duration) (map[sfntypes.ExecutionStatus]int, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.executionStatuses(ctx, prefix)
		if err != nil || st[sfntypes.ExecutionStatusRunning] == 0 {
			return st, err
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%d executions still RUNNING after %s", st[sfntypes.ExecutionStatusRunning], timeout)
		}
		time.Sleep(time.Second)
	}
}

// numberStatuses reads every one of numbers (strongly consistent, through
// the uncounted store) and counts them by status; numbers never requested
// count as "absent".
func (s *system) numberStatuses(ctx context.Context, customerID string, numbers []string) (map[domain.Status]int, error) {
	got, err := s.store.GetNumbers(ctx, customerID, numbers)
	if err != nil {
		return nil, fmt.Errorf("read the numbers of %s: %w", customerID, err)
	}
	out := map[domain.Status]int{}
	for _, n := range numbers {
		st := domain.Status("absent")
		if x, ok := got[n]; ok {
			st = x.Status
		}
		out[st]++
	}
	return out, nil
}

// historyTotals sums the histories of the executions named prefix….
type historyTotals struct {
	executions, entered, retries int
	// byState counts the entries of each state.
	byState map[string]int
}

func (s *system) historyTotals(ctx context.Context, prefix string) (historyTotals, error) {
	t := historyTotals{byState: map[string]int{}}
	p := sfn.NewListExecutionsPaginator(s.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(s.stack.StateMachineARN), MaxResults: 100})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return t, fmt.Errorf("list executions: %w", err)
		}
		for _, e := range page.Executions {
			if !strings.HasPrefix(aws.ToString(e.Name), prefix) {
				continue
			}
			h, err := readHistory(ctx, s.sfn, aws.ToString(e.ExecutionArn))
			if err != nil {
				return t, err
			}
			t.executions++
			t.entered += h.entered
			t.retries += h.retries()
			for _, st := range h.states {
				t.byState[st]++
			}
		}
	}
	return t, nil
}
