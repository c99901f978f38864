// Package reconcile repairs numbers whose workflow is gone or stuck: a number
// that is RELEASING or WAITING_FOR_UNASSIGN must have a running execution
// moving it, and that execution must finish by its overall deadline.
//   - Never started (the start is on the table's stream, and the starter
//     kept failing): the reconciler starts it; if starting keeps failing for
//     longer than the retry budget, the number becomes FAILED with the
//     reason.
//   - Ended without recording an outcome: FAILED with the reason.
//   - Still RUNNING past its overall deadline (plus the grace), which a
//     healthy execution never is: it is stopped and the number FAILED with
//     the reason.
//
// The execution looked at is the one the number records: the approval's,
// or the successor a long wait went on in (workflow.Release.Generation),
// whose deadline still counts from the approval's first execution.
//
// A FAILED number can be approved again. Nothing is ever left stuck.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/workflow"
)

// Actor signs the reconciler's history entries.
const Actor = "reconciler"

// Store is what the reconciler needs from storage.
type Store interface {
	InFlightBefore(ctx context.Context, cutoff time.Time, fn func(domain.Number) error) error
	Apply(ctx context.Context, c domain.Change) (domain.Number, error)
}

// Executions is what the reconciler reads and stops of the release
// workflow's executions (*workflow.StepFunctions).
type Executions interface {
	workflow.Describer
	workflow.Stopper
}

var _ Executions = (*workflow.StepFunctions)(nil)

// stopError names the reconciler's stop in an execution's history.
const stopError = "Reconcile.Deadline"

// Reconciler finds and repairs orphaned numbers.
type Reconciler struct {
	Store      Store
	Executions Executions
	Starter    workflow.Starter
	// Grace is how long a number may go unchanged before it is checked: longer
	// than the starter takes to start an approval's execution, so a healthy
	// workflow is never second-guessed.
	Grace time.Duration
	// MaxWait is the workflow's overall deadline from its execution's start
	// (tasks.Config.MaxWait).
	MaxWait time.Duration
	// RetryBudget is how long a start that keeps failing is retried (run
	// after run) before the number is recorded FAILED.
	RetryBudget time.Duration
	Log         *slog.Logger
	Now         func() time.Time
}

// Report counts what one run found and did.
type Report struct {
	Checked   int `json:"checked"`
	Running   int `json:"running"`
	Restarted int `json:"restarted"`
	Stopped   int `json:"stopped"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
}

// Run checks every in-flight number unchanged for longer than Grace.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	var rep Report
	err := r.Store.InFlightBefore(ctx, r.now().Add(-r.Grace), func(n domain.Number) error {
		rep.Checked++
		if err := r.repair(ctx, n, &rep); err != nil {
			// One number's trouble does not stop the others; it is retried next run.
			rep.Skipped++
			r.Log.ErrorContext(ctx, "reconcile number", "customer_id", n.CustomerID, "number", n.Number, "err", err)
		}
		return nil
	})
	r.Log.InfoContext(ctx, "reconciled", "checked", rep.Checked, "running", rep.Running, "restarted", rep.Restarted,
		"stopped", rep.Stopped, "failed", rep.Failed, "skipped", rep.Skipped)
	return rep, err
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) repair(ctx context.Context, n domain.Number, rep *Report) error {
	rel := workflow.Release{CustomerID: n.CustomerID, Number: n.Number, Attempt: n.Attempt}
	name := n.Execution
	if name == "" {
		name = rel.ExecutionName()
	}
	ex, err := r.Executions.Describe(ctx, name)
	switch {
	case errors.Is(err, workflow.ErrNoExecution) && name != rel.ExecutionName():
		// A successor execution (a long wait goes on in a fresh history) is
		// recorded only once started; gone, it cannot be started again
		// without its predecessor's state.
		return r.fail(ctx, n, rep, fmt.Sprintf("the release workflow's execution %s is gone; approve the number again to retry", name))
	case errors.Is(err, workflow.ErrNoExecution):
		// Approved, but the workflow never started: start it now (idempotent).
		err := r.Starter.Start(ctx, rel)
		if err == nil {
			rep.Restarted++
			r.Log.WarnContext(ctx, "started a workflow that was never started", "customer_id", n.CustomerID, "number", n.Number, "execution", name)
			return nil
		}
		if r.now().Sub(n.UpdatedAt) < r.Grace+r.RetryBudget {
			return fmt.Errorf("start %s (retried next run): %w", name, err)
		}
		return r.fail(ctx, n, rep, fmt.Sprintf("the release workflow could not be started for %s (%v); approve the number again to retry", r.Grace+r.RetryBudget, err))
	case err != nil:
		return err
	case ex.Running:
		deadline := ex.Started.Add(r.MaxWait + r.Grace)
		if r.MaxWait <= 0 || r.now().Before(deadline) {
			rep.Running++
			return nil
		}
		reason := fmt.Sprintf("the release workflow was still running %s after its overall deadline of %s, so it was stopped; approve the number again to retry", r.Grace, r.MaxWait)
		if err := r.Executions.Stop(ctx, name, stopError, reason); err != nil {
			return err
		}
		rep.Stopped++
		r.Log.WarnContext(ctx, "stopped a workflow past its deadline", "customer_id", n.CustomerID, "number", n.Number, "execution", name)
		return r.fail(ctx, n, rep, reason)
	}
	return r.fail(ctx, n, rep, fmt.Sprintf("the release workflow ended (%s) without finishing; approve the number again to retry", ex.Status))
}

// fail records the number FAILED with reason (a waiting number: back to
// PENDING_APPROVAL, domain.Status.Stopped), unless it moved meanwhile.
func (r *Reconciler) fail(ctx context.Context, n domain.Number, rep *Report, reason string) error {
	next := n
	next.Status, next.Message, next.TaskToken = n.Status.Stopped(), reason, ""
	if _, err := r.Store.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: Actor, Why: reason}); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return nil // it moved meanwhile: someone is looking after it
		}
		return fmt.Errorf("mark %s failed: %w", n.Number, err)
	}
	rep.Failed++
	r.Log.WarnContext(ctx, "orphaned number marked "+string(next.Status), "customer_id", n.CustomerID, "number", n.Number, "reason", reason)
	return nil
}
