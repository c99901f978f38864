package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/harness/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

func newStateMachine(t *testing.T) (*sfn.Client, string) {
	t.Helper()
	srv := emulatortest.Server(t)
	client := sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
	out, err := client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name:       aws.String("release-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":60,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/release"),
	})
	if err != nil {
		t.Fatalf("create state machine: %v", err)
	}
	return client, aws.ToString(out.StateMachineArn)
}

func TestStartIsIdempotent(t *testing.T) {
	client, arn := newStateMachine(t)
	wf := &StepFunctions{Client: client, StateMachineARN: arn}
	ctx := context.Background()
	rel := Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1}
	for i := range 2 {
		if err := wf.Start(ctx, rel); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	// A running execution started with another input (a paced start
	// carries its NotBefore, a repair start does not): Step Functions
	// answers ExecutionAlreadyExists, and Start finds it running.
	paced := rel
	paced.NotBefore = NotBefore(time.Now())
	if err := wf.Start(ctx, paced); err != nil {
		t.Fatalf("start with another input while it runs: %v", err)
	}
	if err := wf.Start(ctx, Release{CustomerID: "acme", Number: "+97239754571", Attempt: 2}); err != nil {
		t.Fatal(err)
	}
	out, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, e := range out.Executions {
		names[aws.ToString(e.Name)] = true
	}
	if len(out.Executions) != 2 || !names["acme-97239754571-1"] || !names["acme-97239754571-2"] {
		t.Fatalf("executions = %v; want one per attempt", names)
	}
	desc, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.Executions[0].ExecutionArn})
	if err != nil || !strings.Contains(aws.ToString(desc.Input), `"number":"+97239754571"`) {
		t.Fatalf("execution input = %s, %v", aws.ToString(desc.Input), err)
	}
}

func TestStartFailureIsReported(t *testing.T) {
	client, _ := newStateMachine(t)
	wf := &StepFunctions{Client: client, StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:missing"}
	if err := wf.Start(context.Background(), Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1}); err == nil {
		t.Fatal("start on a missing state machine reported success")
	}
}

func TestRecheckOfSettledTokenIsNotAnError(t *testing.T) {
	client, _ := newStateMachine(t)
	wf := &StepFunctions{Client: client}
	if err := wf.Recheck(context.Background(), "no-such-token"); err != nil {
		t.Fatalf("recheck of an unknown token: %v", err)
	}
}

func TestExecutionName(t *testing.T) {
	tests := []struct {
		rel  Release
		want string
	}{
		{Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1}, "acme-97239754571-1"},
		{Release{CustomerID: "a.b c", Number: "+1415", Attempt: 12}, "a_b_c-1415-12"},
		{Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1, Generation: 3, StartedAt: "2026-11-27T11:00:00Z"}, "acme-97239754571-1-g3"},
	}
	for _, tt := range tests {
		if got := tt.rel.ExecutionName(); got != tt.want || len(got) > 80 {
			t.Errorf("ExecutionName(%+v) = %q; want %q", tt.rel, got, tt.want)
		}
	}
	long1 := Release{CustomerID: strings.Repeat("x", 100) + "1", Number: "+97239754571", Attempt: 3}
	long2 := Release{CustomerID: strings.Repeat("x", 100) + "2", Number: "+97239754571", Attempt: 3}
	if n1, n2 := long1.ExecutionName(), long2.ExecutionName(); len(n1) != 80 || n1 == n2 || !strings.HasSuffix(n1, "-97239754571-3") {
		t.Errorf("long customer ids: %q, %q; want distinct 80-character names", n1, n2)
	}
	long1.Generation = 120
	if n := long1.ExecutionName(); len(n) != 80 || !strings.HasSuffix(n, "-97239754571-3-g120") {
		t.Errorf("long customer id, generation 120: %q; want an 80-character name ending in the generation", n)
	}
}

// TestDescribeAndStop: an execution never started is ErrNoExecution; a
// started one runs until stopped, then it is ABORTED and its attempt cannot
// start again.
func TestDescribeAndStop(t *testing.T) {
	client, arn := newStateMachine(t)
	wf := &StepFunctions{Client: client, StateMachineARN: arn}
	ctx := context.Background()
	rel := Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1}
	if _, err := wf.Describe(ctx, rel.ExecutionName()); !errors.Is(err, ErrNoExecution) {
		t.Fatalf("Describe before the start = %v; want ErrNoExecution", err)
	}
	before := time.Now().Add(-time.Minute)
	if err := wf.Start(ctx, rel); err != nil {
		t.Fatal(err)
	}
	ex, err := wf.Describe(ctx, rel.ExecutionName())
	if err != nil || !ex.Running || ex.Status != "RUNNING" || ex.Started.Before(before) {
		t.Fatalf("Describe of the running execution = %+v, %v", ex, err)
	}
	if err := wf.Stop(ctx, rel.ExecutionName(), "Test.Stop", "stopped by the test"); err != nil {
		t.Fatal(err)
	}
	ex, err = wf.Describe(ctx, rel.ExecutionName())
	if err != nil || ex.Running || ex.Status != "ABORTED" {
		t.Fatalf("Describe of the stopped execution = %+v, %v; want ABORTED", ex, err)
	}
	if err := wf.Start(ctx, rel); !errors.Is(err, ErrEnded) {
		t.Fatalf("Start of the stopped attempt = %v; want ErrEnded", err)
	}
}

func TestExecutionARN(t *testing.T) {
	wf := &StepFunctions{StateMachineARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:number-release"}
	if got, want := wf.ExecutionARN("acme-97239754571-1"), "arn:aws:states:eu-west-1:123456789012:execution:number-release:acme-97239754571-1"; got != want {
		t.Fatalf("ExecutionARN = %q; want %q", got, want)
	}
}

// TestSuccessorsCarryTheFirstStart: a successor execution is started once
// however often its start is repeated (also after it ended), and Describe
// reports the release's first start, from which the reconciler counts the
// overall deadline.
func TestSuccessorsCarryTheFirstStart(t *testing.T) {
	client, arn := newStateMachine(t)
	wf := &StepFunctions{Client: client, StateMachineARN: arn}
	succ := &Successors{Client: client}
	ctx := context.Background()
	first := time.Date(2026, 11, 20, 8, 30, 0, 123e6, time.UTC)
	next := Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1, Generation: 1,
		StartedAt: first.Format(time.RFC3339Nano), Trouble: &Trouble{}}
	for i := range 2 {
		if err := succ.StartSuccessor(ctx, arn, next); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	ex, err := wf.Describe(ctx, "acme-97239754571-1-g1")
	if err != nil || !ex.Running || !ex.Started.Equal(first) {
		t.Fatalf("Describe of the successor = %+v, %v; want running, started %s", ex, err, first)
	}
	if err := wf.Stop(ctx, next.ExecutionName(), "Test.Stop", "ended by the test"); err != nil {
		t.Fatal(err)
	}
	if err := succ.StartSuccessor(ctx, arn, next); err != nil {
		t.Fatalf("start of a successor that has ended = %v; want success (it was started)", err)
	}
	out, err := client.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn)})
	if err != nil || len(out.Executions) != 1 {
		t.Fatalf("executions = %d, %v; want the one successor", len(out.Executions), err)
	}
	gen0 := Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1}
	if err := succ.StartSuccessor(ctx, arn, gen0); err == nil {
		t.Fatal("StartSuccessor of generation 0 succeeded; want it refused")
	}
}
