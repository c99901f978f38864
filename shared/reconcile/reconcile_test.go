package reconcile

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fixture is a table and a state machine whose executions wait ten minutes
// (they stay RUNNING until stopped), on the emulator's real APIs.
type fixture struct {
	st      *store.Store
	sf      *sfn.Client
	starter *workflow.StepFunctions
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	client, tableName := emulatortest.NewTable(t)
	sf := sfn.NewFromConfig(emulatortest.Server(t).AWSConfig())
	sm, err := sf.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(strings.ReplaceAll(t.Name(), "/", "-")), RoleArn: aws.String("arn:aws:iam::123456789012:role/x"),
		Definition: aws.String(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{st: store.New(client, tableName), sf: sf,
		starter: &workflow.StepFunctions{Client: sf, StateMachineARN: aws.ToString(sm.StateMachineArn)}}
}

// approve records an approval of n (RELEASING, attempt 1).
func (f fixture) approve(t *testing.T, n string) domain.Number {
	t.Helper()
	ctx := context.Background()
	cur, err := f.st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: "acme", Number: n, Status: domain.PendingApproval, ProviderID: "pxc", RequestID: "r"}, Actor: "p", Why: "w"})
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.Status, next.Attempt = domain.Releasing, 1
	next.Execution = workflow.Release{CustomerID: "acme", Number: n, Attempt: 1}.ExecutionName()
	if cur, err = f.st.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "c", Why: "approved"}); err != nil {
		t.Fatal(err)
	}
	return cur
}

func (f fixture) reconciler(starter workflow.Starter, now func() time.Time) *Reconciler {
	return &Reconciler{Store: f.st, Executions: f.sf, Starter: starter, StateMachineARN: f.starter.StateMachineARN,
		Grace: time.Minute, MaxWait: time.Hour, RetryBudget: 15 * time.Minute,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: now}
}

// TestReconcile runs against real DynamoDB and Step Functions APIs on the
// emulator (executions there stay RUNNING until stopped).
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	st, sf, starter := f.st, f.sf, f.starter
	// Three approved numbers: one healthy, one whose execution was aborted,
	// one whose execution never started.
	approve := func(n string) domain.Number { return f.approve(t, n) }
	healthy, aborted, neverStarted := approve("+14155550001"), approve("+14155550002"), approve("+14155550003")
	for _, n := range []domain.Number{healthy, aborted} {
		if err := starter.Start(ctx, workflow.Release{CustomerID: "acme", Number: n.Number, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sf.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(ExecutionARN(starter.StateMachineARN, aborted.Execution))}); err != nil {
		t.Fatal(err)
	}

	r := f.reconciler(starter, func() time.Time { return time.Now().Add(2 * time.Minute) })

	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 3 || rep.Running != 1 || rep.Failed != 1 || rep.Restarted != 1 {
		t.Fatalf("report = %+v; want 3 checked, 1 running, 1 failed, 1 restarted", rep)
	}
	got, _ := st.GetNumber(ctx, "acme", aborted.Number)
	if got.Status != domain.Failed || got.Message == "" {
		t.Fatalf("aborted execution's number = %s %q", got.Status, got.Message)
	}
	hist, _ := st.History(ctx, "acme", aborted.Number)
	if last := hist[len(hist)-1]; last.Actor != Actor || last.To != domain.Failed {
		t.Fatalf("last history entry = %+v", last)
	}
	d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ExecutionARN(starter.StateMachineARN, neverStarted.Execution))})
	if err != nil || d.Status != "RUNNING" {
		t.Fatalf("never-started number's execution: %v, %v", d, err)
	}
	// A second run finds nothing left to repair.
	rep, err = r.Run(ctx)
	if err != nil || rep.Restarted != 0 || rep.Failed != 0 || rep.Running != 2 {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	// Within the grace period (the numbers changed seconds ago) nothing is looked at.
	r.Now = time.Now
	if rep, _ := r.Run(ctx); rep.Checked != 0 {
		t.Fatalf("inside the grace period: %+v", rep)
	}
}

// TestReconcileStopsAnExecutionPastItsDeadline: an execution still RUNNING
// past its overall deadline plus the grace (which a healthy one never is)
// is stopped and its number recorded FAILED with the reason.
func TestReconcileStopsAnExecutionPastItsDeadline(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := f.approve(t, "+14155550011")
	if err := f.starter.Start(ctx, workflow.Release{CustomerID: "acme", Number: n.Number, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		after       time.Duration
		wantStopped int
		wantStatus  domain.Status
		wantExec    string
	}{
		{"within its deadline and grace: left alone", time.Hour + 30*time.Second, 0, domain.Releasing, "RUNNING"},
		{"past them: stopped and FAILED", time.Hour + 2*time.Minute, 1, domain.Failed, "ABORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := f.reconciler(f.starter, func() time.Time { return time.Now().Add(tt.after) }).Run(ctx)
			if err != nil || rep.Stopped != tt.wantStopped {
				t.Fatalf("report %+v, %v; want %d stopped", rep, err, tt.wantStopped)
			}
			got, _ := f.st.GetNumber(ctx, "acme", n.Number)
			d, err := f.sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ExecutionARN(f.starter.StateMachineARN, n.Execution))})
			if err != nil || got.Status != tt.wantStatus || string(d.Status) != tt.wantExec {
				t.Fatalf("number %s, execution %v (%v); want %s, %s", got.Status, d.Status, err, tt.wantStatus, tt.wantExec)
			}
			if tt.wantStatus == domain.Failed && !strings.Contains(got.Message, "overall deadline") {
				t.Fatalf("message %q does not give the reason", got.Message)
			}
		})
	}
}

// failingStarter cannot start anything (Step Functions down for this caller).
type failingStarter struct{}

func (failingStarter) Start(context.Context, workflow.Release) error {
	return errors.New("states unavailable")
}

// TestReconcileGivesUpOnAStartThatKeepsFailing: a release whose workflow
// cannot be started is retried run after run within the retry budget, then
// recorded FAILED with the reason, so it is never left RELEASING.
func TestReconcileGivesUpOnAStartThatKeepsFailing(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	n := f.approve(t, "+14155550021")
	tests := []struct {
		name       string
		after      time.Duration
		wantStatus domain.Status
	}{
		{"within the budget: retried next run", 10 * time.Minute, domain.Releasing},
		{"past grace and budget: FAILED", 17 * time.Minute, domain.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.reconciler(failingStarter{}, func() time.Time { return time.Now().Add(tt.after) }).Run(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := f.st.GetNumber(ctx, "acme", n.Number)
			if got.Status != tt.wantStatus {
				t.Fatalf("number is %s; want %s", got.Status, tt.wantStatus)
			}
			if tt.wantStatus == domain.Failed && !strings.Contains(got.Message, "could not be started") {
				t.Fatalf("message %q does not give the reason", got.Message)
			}
		})
	}
}
