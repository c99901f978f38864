// Package tasks is the release state machine's Lambda: one handler whose
// "action" says which state called it (check, wait, release, expire, fail).
// Every action first checks that the number still belongs to the calling
// execution (same approval attempt, still RELEASING or WAITING_FOR_UNASSIGN),
// so a cancelled or re-approved number is never touched by a stale workflow.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"numberrelease/shared/number"
	"numberrelease/shared/store"
	"numberrelease/shared/zoom"
)

// Step Functions error names the tasks raise; the state machine's Retry and
// Catch match them (shared/workflow/release.asl.json).
const (
	ErrZoomThrottled      = "Zoom.Throttled"
	ErrZoomUnavailable    = "Zoom.Unavailable"
	ErrZoomAssigned       = "Zoom.Assigned"
	ErrZoomBadCredentials = "Zoom.BadCredentials"
	ErrZoomRejected       = "Zoom.Rejected"
	ErrSuperseded         = "Release.Superseded"
	ErrMisconfigured      = "Release.Misconfigured"
)

// Outcomes of the check action.
const (
	OutcomeUnassigned = "unassigned"
	OutcomeAssigned   = "assigned"
	OutcomeExpired    = "expired"
	OutcomeSuperseded = "superseded"
)

// Store is what the tasks need from storage.
type Store interface {
	GetNumber(ctx context.Context, customerID, e164 string) (store.Number, error)
	GetCustomer(ctx context.Context, customerID string) (store.Customer, error)
	Apply(ctx context.Context, c store.Change) (store.Number, error)
}

// Zoom is what the tasks need from Zoom.
type Zoom interface {
	FindNumber(ctx context.Context, accountID, e164 string) (zoom.PhoneNumber, error)
	RemoveNumbers(ctx context.Context, accountID string, ids []string) error
}

// Config is the workflow's timing.
type Config struct {
	// Recheck is how long WaitForUnassign waits for a callback before
	// checking Zoom again.
	Recheck time.Duration
	// MaxWait is the overall deadline, from the execution's start, after
	// which a still-assigned number goes back to PENDING_APPROVAL.
	MaxWait time.Duration
}

// Input is the payload every state sends.
type Input struct {
	Action     string          `json:"action"`
	CustomerID string          `json:"customer_id"`
	Number     string          `json:"number"`
	Attempt    int             `json:"attempt"`
	StartedAt  string          `json:"started_at,omitempty"`
	Assignee   *store.Assignee `json:"assignee,omitempty"`
	TaskToken  string          `json:"task_token,omitempty"`
	Error      *StateError     `json:"error,omitempty"`
}

// StateError is what a Catch puts at its ResultPath.
type StateError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// CheckOutput answers the check action. Every field is always present: the
// state's ResultSelector reads them all.
type CheckOutput struct {
	Outcome        string          `json:"outcome"`
	Assignee       *store.Assignee `json:"assignee"`
	RecheckSeconds int             `json:"recheck_seconds"`
}

// Tasks runs the actions.
type Tasks struct {
	store Store
	zoom  Zoom
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
}

// New returns the tasks handler.
func New(s Store, z Zoom, cfg Config, log *slog.Logger) *Tasks {
	return &Tasks{store: s, zoom: z, cfg: cfg, log: log, now: time.Now}
}

// Handle dispatches one state's call.
func (t *Tasks) Handle(ctx context.Context, in Input) (any, error) {
	log := t.log.With("action", in.Action, "customer_id", in.CustomerID, "number", in.Number, "attempt", in.Attempt)
	var out any
	var err error
	switch in.Action {
	case "check":
		out, err = t.check(ctx, in)
	case "wait":
		err = t.wait(ctx, in)
	case "release":
		err = t.release(ctx, in)
	case "expire":
		err = t.expire(ctx, in)
	case "fail":
		err = t.fail(ctx, in)
	default:
		err = stateErr(ErrMisconfigured, "unknown action %q", in.Action)
	}
	if err != nil {
		// Step Functions matches on the error type: return the named error
		// itself (aws-lambda-go reads its Type), anything else unnamed.
		var named messages.InvokeResponse_Error
		if errors.As(err, &named) {
			log.WarnContext(ctx, "task failed", "error_type", named.Type, "err", named.Message)
			return nil, named
		}
		log.ErrorContext(ctx, "task failed", "err", err)
		return nil, err
	}
	log.InfoContext(ctx, "task done", "output", out)
	return out, nil
}

func stateErr(name, format string, args ...any) messages.InvokeResponse_Error {
	return messages.InvokeResponse_Error{Type: name, Message: fmt.Sprintf(format, args...)}
}

// owned loads the number and reports whether this execution still owns it.
func (t *Tasks) owned(ctx context.Context, in Input) (store.Number, bool, error) {
	n, err := t.store.GetNumber(ctx, in.CustomerID, in.Number)
	if errors.Is(err, store.ErrNotFound) {
		return store.Number{}, false, nil
	}
	if err != nil {
		return store.Number{}, false, fmt.Errorf("read number: %w", err)
	}
	own := n.Attempt == in.Attempt && (n.Status == number.Releasing || n.Status == number.WaitingForUnassign)
	return n, own, nil
}

func (t *Tasks) zoomAccount(ctx context.Context, customerID string) (string, error) {
	c, err := t.store.GetCustomer(ctx, customerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.ZoomAccountID == "") {
		return "", stateErr(ErrMisconfigured, "customer %s has no Zoom account configured", customerID)
	}
	if err != nil {
		return "", fmt.Errorf("read customer: %w", err)
	}
	return c.ZoomAccountID, nil
}

// zoomErr names a Zoom failure for the state machine.
func zoomErr(op string, err error) error {
	name := map[zoom.Kind]string{
		zoom.Throttled:      ErrZoomThrottled,
		zoom.Unavailable:    ErrZoomUnavailable,
		zoom.Assigned:       ErrZoomAssigned,
		zoom.BadCredentials: ErrZoomBadCredentials,
		zoom.Rejected:       ErrZoomRejected,
	}[zoom.KindOf(err)]
	if name == "" {
		return fmt.Errorf("%s: %w", op, err)
	}
	return stateErr(name, "%s: %v", op, err)
}
