package reconcile

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/emulator"
	"numberrelease/shared/number"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

var srv *emulator.Server

func TestMain(m *testing.M) { os.Exit(emulator.Main(m, emulator.Options{}, &srv)) }

// TestReconcile runs against real DynamoDB and Step Functions APIs on the
// emulator (executions there stay RUNNING until stopped).
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	client, tableName := srv.NewTable(t)
	st := store.New(client, tableName)
	sf := sfn.NewFromConfig(srv.AWSConfig())
	sm, err := sf.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("reconcile-test"), RoleArn: aws.String("arn:aws:iam::123456789012:role/x"),
		Definition: aws.String(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	starter := &workflow.StepFunctions{Client: sf, StateMachineARN: aws.ToString(sm.StateMachineArn)}

	// Three approved numbers: one healthy, one whose execution was aborted,
	// one whose execution never started.
	approve := func(n string) store.Number {
		cur, err := st.Apply(ctx, store.Change{Next: store.Number{CustomerID: "acme", Number: n, Status: number.PendingApproval, ProviderID: "pxc", RequestID: "r"}, Actor: "p", Why: "w"})
		if err != nil {
			t.Fatal(err)
		}
		next := cur
		next.Status, next.Attempt = number.Releasing, 1
		next.Execution = workflow.Release{CustomerID: "acme", Number: n, Attempt: 1}.ExecutionName()
		if cur, err = st.Apply(ctx, store.Change{Prev: cur, Next: next, Actor: "c", Why: "approved"}); err != nil {
			t.Fatal(err)
		}
		return cur
	}
	healthy, aborted, neverStarted := approve("+14155550001"), approve("+14155550002"), approve("+14155550003")
	for _, n := range []store.Number{healthy, aborted} {
		if err := starter.Start(ctx, workflow.Release{CustomerID: "acme", Number: n.Number, Attempt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sf.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(ExecutionARN(starter.StateMachineARN, aborted.Execution))}); err != nil {
		t.Fatal(err)
	}

	r := &Reconciler{Store: st, Executions: sf, Starter: starter, StateMachineARN: starter.StateMachineARN,
		Grace: time.Minute, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return time.Now().Add(2 * time.Minute) }}

	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 3 || rep.Running != 1 || rep.Failed != 1 || rep.Restarted != 1 {
		t.Fatalf("report = %+v; want 3 checked, 1 running, 1 failed, 1 restarted", rep)
	}
	got, _ := st.GetNumber(ctx, "acme", aborted.Number)
	if got.Status != number.Failed || got.Message == "" {
		t.Fatalf("aborted execution's number = %s %q", got.Status, got.Message)
	}
	hist, _ := st.History(ctx, "acme", aborted.Number)
	if last := hist[len(hist)-1]; last.Actor != Actor || last.To != number.Failed {
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
