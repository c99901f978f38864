// Package reconcile repairs numbers whose workflow is gone: a number that is
// RELEASING or WAITING_FOR_UNASSIGN must have a running execution moving it.
// If its execution was never started (the API died between the status write
// and the start), the reconciler starts it; if the execution ended without
// recording an outcome, the number becomes FAILED with the reason, so the
// customer can approve it again. Nothing is ever left stuck.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/number"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

// Actor signs the reconciler's history entries.
const Actor = "reconciler"

// Store is what the reconciler needs from storage.
type Store interface {
	InFlightBefore(ctx context.Context, cutoff time.Time, fn func(store.Number) error) error
	Apply(ctx context.Context, c store.Change) (store.Number, error)
}

// Executions is the part of Step Functions the reconciler reads.
type Executions interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Reconciler finds and repairs orphaned numbers.
type Reconciler struct {
	Store           Store
	Executions      Executions
	Starter         workflow.Starter
	StateMachineARN string
	// Grace is how long a number may go unchanged before it is checked: longer
	// than a re-check interval plus the Zoom retries, so a healthy workflow is
	// never second-guessed.
	Grace time.Duration
	Log   *slog.Logger
	Now   func() time.Time
}

// Report counts what one run found and did.
type Report struct {
	Checked   int `json:"checked"`
	Running   int `json:"running"`
	Restarted int `json:"restarted"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

// Run checks every in-flight number unchanged for longer than Grace.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	var rep Report
	err := r.Store.InFlightBefore(ctx, now().Add(-r.Grace), func(n store.Number) error {
		rep.Checked++
		if err := r.repair(ctx, n, &rep); err != nil {
			// One number's trouble does not stop the others; it is retried next run.
			rep.Skipped++
			r.Log.ErrorContext(ctx, "reconcile number", "customer_id", n.CustomerID, "number", n.Number, "err", err)
		}
		return nil
	})
	r.Log.InfoContext(ctx, "reconciled", "checked", rep.Checked, "running", rep.Running, "restarted", rep.Restarted, "failed", rep.Failed, "skipped", rep.Skipped)
	return rep, err
}

func (r *Reconciler) repair(ctx context.Context, n store.Number, rep *Report) error {
	rel := workflow.Release{CustomerID: n.CustomerID, Number: n.Number, Attempt: n.Attempt}
	name := n.Execution
	if name == "" {
		name = rel.ExecutionName()
	}
	out, err := r.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(ExecutionARN(r.StateMachineARN, name))})
	var missing *sfntypes.ExecutionDoesNotExist
	switch {
	case errors.As(err, &missing):
		// Approved, but the workflow never started: start it now (idempotent).
		if err := r.Starter.Start(ctx, rel); err != nil {
			return fmt.Errorf("restart %s: %w", name, err)
		}
		rep.Restarted++
		r.Log.WarnContext(ctx, "restarted a workflow that was never started", "customer_id", n.CustomerID, "number", n.Number, "execution", name)
		return nil
	case err != nil:
		return fmt.Errorf("describe %s: %w", name, err)
	case out.Status == sfntypes.ExecutionStatusRunning:
		rep.Running++
		return nil
	}
	reason := fmt.Sprintf("the release workflow ended (%s) without finishing; approve the number again to retry", out.Status)
	next := n
	next.Status, next.Message, next.TaskToken = number.Failed, reason, ""
	if _, err := r.Store.Apply(ctx, store.Change{Prev: n, Next: next, Actor: Actor, Why: reason}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil // it moved meanwhile: someone is looking after it
		}
		return fmt.Errorf("mark %s failed: %w", n.Number, err)
	}
	rep.Failed++
	r.Log.WarnContext(ctx, "orphaned number marked FAILED", "customer_id", n.CustomerID, "number", n.Number, "execution", name, "execution_status", out.Status)
	return nil
}

// ExecutionARN is the ARN of a named execution of a state machine.
func ExecutionARN(stateMachineARN, name string) string {
	return strings.Replace(stateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name
}
