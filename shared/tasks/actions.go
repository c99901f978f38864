package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"numberrelease/shared/domain"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
)

// Actor is how the workflow signs history entries.
const Actor = "workflow"

// writeRetries bounds re-reads after losing a race on a number.
const writeRetries = 3

func (t *Tasks) check(ctx context.Context, in Input) (CheckOutput, error) {
	out := CheckOutput{RecheckSeconds: int(t.cfg.Recheck / time.Second)}
	n, own, err := t.owned(ctx, in)
	if err != nil {
		return out, err
	}
	if !own {
		out.Outcome = OutcomeSuperseded
		return out, nil
	}
	started, _, err := in.firstStart()
	if err != nil {
		return out, err
	}
	if t.now().Sub(started) > t.cfg.MaxWait {
		out.Outcome, out.Assignee = OutcomeExpired, zoomAssignee(n.Assignee)
		return out, nil
	}
	var account string // the customer's Zoom account (customer mode)
	if t.cfg.Mode != domain.ModeCarrier {
		if account, err = t.zoomAccount(ctx, n.CustomerID); err != nil {
			return notConnected(out, err)
		}
	}
	// A recent listing of the number's block (carrier mode: of the
	// carrier's view) answers without Zoom, so without a slot either.
	seenAccount, blk := account, block(n.Number)
	if t.cfg.Mode == domain.ModeCarrier {
		seenAccount, blk = t.cfg.CarrierAccountID, wholeView
	}
	if z, ok := t.seen.recall(seenAccount, blk, n.Number, n.UpdatedAt, t.now()); ok {
		return answer(out, z), nil
	}
	lease, err := t.takeSlot(ctx)
	if err != nil {
		if at, ok := t.requeue(ctx, n.CustomerID, err); ok {
			out.Outcome, out.RetryAt = OutcomeBusy, at
			return out, nil
		}
		return out, err
	}
	zctx, cancel := context.WithTimeout(ctx, t.cfg.ZoomTimeout)
	defer cancel()
	z, err := t.lookUp(zctx, account, n)
	t.giveBack(ctx, lease)
	if err != nil {
		return notConnected(out, err)
	}
	if n.Message == domain.NotConnectedMessage {
		// Connected again: the number no longer waits for it.
		if _, err := t.updateFrom(ctx, in, &n, "Zoom connected", func(cur domain.Number) domain.Number {
			next := cur
			next.Message, next.TaskToken = "", ""
			return next
		}); err != nil {
			return out, err
		}
	}
	return answer(out, z), nil
}

// notConnected answers a check that found the customer's Zoom not
// connected with OutcomeNotConnected; any other err as it is.
func notConnected(out CheckOutput, err error) (CheckOutput, error) {
	var named messages.InvokeResponse_Error
	if errors.As(err, &named) && named.Type == ErrZoomNotConnected {
		out.Outcome = OutcomeNotConnected
		return out, nil
	}
	return out, err
}

// answer is the check's answer for what it found in Zoom.
func answer(out CheckOutput, z inZoom) CheckOutput {
	switch {
	case !z.listed:
		out.Outcome = OutcomeUnassigned // gone from Zoom already: release is a no-op on Zoom
	case z.assigned:
		out.Outcome, out.ZoomID, out.Assignee = OutcomeAssigned, z.id, z.assignee
	default:
		out.Outcome, out.ZoomID = OutcomeUnassigned, z.id
	}
	return out
}

// inZoom is what the check found of a number in Zoom.
type inZoom struct {
	// listed: Zoom has the number (customer mode: in the customer's
	// account; carrier mode: in the carrier's view).
	listed   bool
	assigned bool
	// id is what the release removes the number by, the check's zoom_id:
	// its Zoom id in customer mode; in carrier mode the number itself,
	// since the Provider Exchange removes by number and the carrier's view
	// has no id.
	id string
	// assignee is who holds an assigned number; nil in carrier mode, whose
	// view says only that the number is assigned.
	assignee *zoom.Assignee
}

// lookUp finds e164 in Zoom as the release mode does: in customer mode in
// the customer's account, with a token of that account; in carrier mode in
// the carrier's own view of the numbers it pushed to its customers, with a
// token of the carrier's account. A number Zoom does not have is not
// listed, and not an error.
func (t *Tasks) lookUp(ctx context.Context, account string, n domain.Number) (inZoom, error) {
	if t.cfg.Mode == domain.ModeCarrier {
		if t.cfg.CarrierAccountID == "" {
			return inZoom{}, stateErr(ErrMisconfigured, "carrier release mode without the carrier's Zoom account id")
		}
		return t.lookUpCarrier(ctx, n)
	}
	return t.lookUpCustomer(ctx, account, n)
}

// requeue gives a check that found every slot held (err is Tasks.Busy)
// its next turn from the customer's start queue. Under a backlog, turns
// come at the pace Zoom's budget allows, however many releases wait, where
// retries with backoff would come at a rate that grows with the backlog
// (each one an invocation and a state transition). ok is false for any
// other error, without a queue, or when the queue cannot be written: the
// caller then answers err.
func (t *Tasks) requeue(ctx context.Context, customerID string, err error) (string, bool) {
	var named messages.InvokeResponse_Error
	if t.cfg.Queue == nil || !errors.As(err, &named) || named.Type != ErrTasksBusy {
		return "", false
	}
	turns, qerr := t.cfg.Queue.Reserve(ctx, customerID, 1)
	if qerr != nil {
		t.log.WarnContext(ctx, "start queue unavailable: retrying a busy check with backoff", "customer_id", customerID, "err", qerr)
		return "", false
	}
	return workflow.NotBefore(turns[0]), true
}

// zoomAssignee is a number's recorded assignee as the state machine
// carries it, the way Zoom reported it.
func zoomAssignee(a *domain.Assignee) *zoom.Assignee {
	if a == nil {
		return nil
	}
	return &zoom.Assignee{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
}

// recorded is the assignee Zoom reported, as the number records it.
func recorded(a *zoom.Assignee) *domain.Assignee {
	if a == nil {
		return nil
	}
	return &domain.Assignee{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
}

// AssignedMessage tells the customer what to do about an assigned number.
func AssignedMessage(a *zoom.Assignee) string {
	if a == nil {
		return "assigned in Zoom — unassign it in Zoom first"
	}
	return fmt.Sprintf("assigned in Zoom to %s (%s) — unassign it in Zoom first", a.Name, a.Type)
}

// update applies change to the number until it lands or the number stops
// belonging to this execution (then Release.Superseded).
func (t *Tasks) update(ctx context.Context, in Input, why string, change func(cur domain.Number) domain.Number) (domain.Number, error) {
	return t.updateFrom(ctx, in, nil, why, change)
}

// updateFrom is update starting from read, a copy of the number this action
// already read and found its own (nil: read it). A write from a stale read
// loses its condition and the loop reads again, so reusing it is safe.
func (t *Tasks) updateFrom(ctx context.Context, in Input, read *domain.Number, why string, change func(cur domain.Number) domain.Number) (domain.Number, error) {
	for attempt := 0; ; attempt++ {
		var cur domain.Number
		own := true
		if attempt == 0 && read != nil {
			cur = *read
		} else {
			var err error
			if cur, own, err = t.owned(ctx, in); err != nil {
				return domain.Number{}, err
			}
		}
		if !own {
			return domain.Number{}, stateErr(ErrSuperseded, "%s is %s (attempt %d); execution of attempt %d stops", in.Number, cur.Status, cur.Attempt, in.Attempt)
		}
		written, err := t.store.Apply(ctx, domain.Change{Prev: cur, Next: change(cur), Actor: Actor, Why: why})
		if errors.Is(err, domain.ErrConflict) && attempt < writeRetries {
			continue
		}
		if err != nil {
			return domain.Number{}, storeErr("write number", err)
		}
		return written, nil
	}
}

func (t *Tasks) wait(ctx context.Context, in Input) error {
	if in.TaskToken == "" {
		return stateErr(ErrMisconfigured, "wait needs a task token")
	}
	_, err := t.update(ctx, in, AssignedMessage(in.Assignee), func(cur domain.Number) domain.Number {
		next := cur
		next.Status = domain.WaitingForUnassign
		next.TaskToken = in.TaskToken
		next.Assignee = recorded(in.Assignee)
		next.Message = AssignedMessage(in.Assignee)
		next.RemovalStarted = false // Zoom shows it assigned: it was not removed
		return next
	})
	return err
}

// waitConnection parks the release until its customer connects Zoom: the
// task token is kept on the number (the connection wakes it, shared/release
// Hints.WakeNotConnected) and the message tells the customer what to do.
// The number stays RELEASING (a number that waited for its unassignment
// goes back to RELEASING: the connection is what it waits for now).
func (t *Tasks) waitConnection(ctx context.Context, in Input) error {
	if in.TaskToken == "" {
		return stateErr(ErrMisconfigured, "wait_connection needs a task token")
	}
	_, err := t.update(ctx, in, domain.NotConnectedMessage, func(cur domain.Number) domain.Number {
		next := cur
		next.Status = domain.Releasing
		next.TaskToken = in.TaskToken
		next.Message = domain.NotConnectedMessage
		return next
	})
	return err
}

func (t *Tasks) expire(ctx context.Context, in Input) error {
	n, own, err := t.owned(ctx, in)
	if err != nil {
		return err
	}
	if own && n.Status == domain.Releasing {
		// Not waiting for an unbind (the lifecycle has no RELEASING →
		// PENDING_APPROVAL): most often it waited for the customer's Zoom
		// connection the whole time.
		why := fmt.Sprintf("not released within %s", t.cfg.MaxWait)
		msg := why + "; approve the release again"
		if n.Message == domain.NotConnectedMessage {
			why = fmt.Sprintf("Zoom was not connected within %s", t.cfg.MaxWait)
			msg = why + "; connect it in Settings, then approve the release again"
		}
		_, err := t.updateFrom(ctx, in, &n, why, func(cur domain.Number) domain.Number {
			next := cur
			next.Status = domain.Failed
			next.Message, next.TaskToken = msg, ""
			return next
		})
		return err
	}
	_, err = t.update(ctx, in, "still assigned in Zoom when the wait ended", func(cur domain.Number) domain.Number {
		next := cur
		next.Status = domain.PendingApproval
		next.Message = fmt.Sprintf("still assigned in Zoom after %s; unassign it in Zoom, then approve the release again", t.cfg.MaxWait)
		if cur.Assignee != nil {
			next.Message = fmt.Sprintf("still assigned in Zoom to %s (%s) after %s; unassign it in Zoom, then approve the release again", cur.Assignee.Name, cur.Assignee.Type, t.cfg.MaxWait)
		}
		next.TaskToken = ""
		return next
	})
	return err
}

func (t *Tasks) fail(ctx context.Context, in Input) error {
	reason := t.failureReason(in.Error)
	_, err := t.update(ctx, in, reason, func(cur domain.Number) domain.Number {
		next := cur
		next.Status = cur.Status.Stopped()
		next.Message = reason
		if cur.RemovalStarted {
			next.Message += ". The removal had already been sent to Zoom, so Zoom may have removed the number: approve it again to settle it (it cannot be cancelled or rejected until then)"
		}
		next.TaskToken = ""
		return next
	})
	var named messages.InvokeResponse_Error
	if errors.As(err, &named) && named.Type == ErrSuperseded {
		// Nothing of ours to mark: the number moved on under someone else.
		return nil
	}
	return err
}

// failureReason turns a caught state error into a message a customer can
// act on. A failure after the removal was sent to Zoom says so: Zoom may
// have removed the number, and approving again settles it.
func (t *Tasks) failureReason(e *StateError) string {
	if e == nil {
		return "the release failed for an unknown reason; approve it again to retry"
	}
	var cause struct {
		Message string `json:"errorMessage"`
	}
	detail := e.Cause
	if json.Unmarshal([]byte(e.Cause), &cause) == nil && cause.Message != "" {
		detail = cause.Message
	}
	switch e.Error {
	case ErrZoomThrottled:
		return fmt.Sprintf("Zoom kept rate-limiting the release (HTTP 429, or the service's own pacing within Zoom's per-second limits) until the overall deadline of %s; approve it again to retry", t.cfg.MaxWait)
	case ErrTasksBusy, "Lambda.TooManyRequestsException":
		return fmt.Sprintf("the service stayed too busy with other releases (its concurrency cap) until the overall deadline of %s; approve it again to retry", t.cfg.MaxWait)
	case ErrZoomUnavailable:
		return fmt.Sprintf("Zoom was unavailable for more than %s (%s); approve it again to retry", t.cfg.RetryBudget, detail)
	case ErrStoreUnavailable:
		return fmt.Sprintf("the service's database was unavailable for more than %s (%s); approve it again to retry", t.cfg.RetryBudget, detail)
	case ErrWorkflowUnavailable:
		return fmt.Sprintf("the wait could not go on in a new workflow execution (%s); approve it again to retry", detail)
	case ErrZoomBadCredentials:
		return "Zoom refused the service's credentials; the operator must fix the Zoom app credentials, then approve again"
	case ErrZoomRejected:
		return "Zoom refused the release: " + detail
	case ErrMisconfigured:
		return "the release is misconfigured: " + detail
	}
	return fmt.Sprintf("the release workflow failed (%s): %s; approve it again to retry", e.Error, detail)
}

// continueAsNew goes on with a long wait in a fresh execution, so that no
// execution's history reaches Step Functions' limit: it starts the
// successor (the next generation, with the same release, deadline and
// trouble record), then records the successor's name on the number, where
// the reconciler and a repeated approval look for the running execution.
// Both steps are safe to repeat. A number that no longer belongs to this
// execution gets no successor.
func (t *Tasks) continueAsNew(ctx context.Context, in Input) error {
	if t.successors == nil || in.StateMachine == "" {
		return stateErr(ErrMisconfigured, "continue needs the state machine (state_machine) and a way to start executions")
	}
	_, started, err := in.firstStart()
	if err != nil {
		return err
	}
	cur, own, err := t.owned(ctx, in)
	if err != nil {
		return err
	}
	if !own {
		return stateErr(ErrSuperseded, "%s is %s (attempt %d); execution of attempt %d ends without a successor", in.Number, cur.Status, cur.Attempt, in.Attempt)
	}
	next := workflow.Release{CustomerID: in.CustomerID, Number: in.Number, Attempt: in.Attempt,
		Generation: in.Generation + 1, StartedAt: started, Trouble: &workflow.Trouble{Since: in.TroubleSince}}
	if err := t.successors.StartSuccessor(ctx, in.StateMachine, next); err != nil {
		return stateErr(ErrWorkflowUnavailable, "start the successor execution: %v", err)
	}
	name := next.ExecutionName()
	if cur.Execution == name {
		return nil
	}
	_, err = t.updateFrom(ctx, in, &cur, "the wait goes on in execution "+name, func(c domain.Number) domain.Number {
		n := c
		n.Execution = name
		return n
	})
	return err
}
