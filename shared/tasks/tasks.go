// Package tasks is the release state machine's work: release-tasks'
// handler, whose "action" says which state called it (check, wait,
// expire, triage, fail, continue), and the release queue's consumer
// (release-batch), which releases the numbers the Release states hand over,
// in batches (queue.go, batch.go).
// Every action first checks that the number still belongs to the calling
// execution (same approval attempt, still RELEASING or WAITING_FOR_UNASSIGN),
// so a cancelled or re-approved number is never touched by a stale workflow.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"numberrelease/shared/domain"
	"numberrelease/shared/slots"
	"numberrelease/shared/workflow"
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
	// ErrZoomNotConnected: the customer has not authorized the Zoom app
	// (or the authorization ended). The check answers it as the outcome
	// OutcomeNotConnected; a release answers it and the state machine
	// checks again, which then waits for the connection.
	ErrZoomNotConnected = "Zoom.NotConnected"
	ErrSuperseded       = "Release.Superseded"
	// ErrStoreUnavailable is a DynamoDB read or write that failed after the
	// SDK's own retries (throttling, timeouts, 5xx) or kept losing races:
	// transient, so the state machine retries it; every action is safe to
	// repeat (ownership check, conditional writes).
	ErrStoreUnavailable = "Store.Unavailable"
	ErrMisconfigured    = "Release.Misconfigured"
	// ErrTasksBusy: every concurrency slot of release-tasks is held
	// (shared/slots), so this invocation did no Zoom work. It means "wait
	// your turn", like Zoom.Throttled: the state machine retries it with
	// the throttling budget and the triage until the overall deadline.
	ErrTasksBusy = "Tasks.Busy"
	// ErrWorkflowUnavailable is a Step Functions call (starting the
	// successor execution) that failed after the SDK's own retries:
	// transient, and safe to repeat (the start is idempotent by name).
	ErrWorkflowUnavailable = "Workflow.Unavailable"
)

// Outcomes of the check action.
const (
	OutcomeUnassigned = "unassigned"
	OutcomeAssigned   = "assigned"
	OutcomeExpired    = "expired"
	OutcomeSuperseded = "superseded"
	// OutcomeBusy: every concurrency slot was held; the release takes its
	// turn again at RetryAt, from the back of its customer's start queue.
	OutcomeBusy = "busy"
	// OutcomeNotConnected: the customer's Zoom is not connected; the
	// release waits for the connection (WaitForConnection).
	OutcomeNotConnected = "not_connected"
)

// Store is what the tasks need from storage.
type Store interface {
	GetNumber(ctx context.Context, customerID, e164 string) (domain.Number, error)
	GetCustomer(ctx context.Context, customerID string) (domain.Customer, error)
	Apply(ctx context.Context, c domain.Change) (domain.Number, error)
}

// Zoom is what the tasks need from Zoom (*zoom.Client and *zoom.Lazy have
// it). Customer mode finds a number in the customer's account and removes
// it by Zoom id, both as the customer; carrier mode reads the carrier's own
// view of the numbers it pushed to customers and removes through the
// Provider Exchange, both as the carrier.
type Zoom interface {
	FindNumber(ctx context.Context, accountID, e164 string) (zoom.PhoneNumber, error)
	RemoveNumbers(ctx context.Context, accountID string, ids []string) error
	CarrierPeeringNumbers(ctx context.Context, carrierAccountID string, numbers []string) (map[string]zoom.PeeringNumber, error)
	RemovePeeringNumbers(ctx context.Context, accountID string, carrierCode int, numbers []string) ([]zoom.PeeringFailure, error)
}

var (
	_ Zoom = (*zoom.Client)(nil)
	_ Zoom = (*zoom.Lazy)(nil)
)

// Slots caps how many invocations work with Zoom at once (*slots.Semaphore):
// Take returns at once, with an error wrapping slots.ErrBusy when every
// slot is held; Release gives it back.
type Slots interface {
	Take(ctx context.Context) (slots.Lease, error)
	Release(ctx context.Context, l slots.Lease) error
}

var _ Slots = (*slots.Semaphore)(nil)

// SlotsName names release-tasks' semaphore (shared/slots): its items are
// SLOT#release-tasks.
const SlotsName = "release-tasks"

// DefaultZoomTimeout bounds the Zoom part of one action by default: the
// limiter's wait (at most 10 s), the call and the client's own short
// retries, leaving the rest of the function's 30 s for the status write.
const DefaultZoomTimeout = 20 * time.Second

// Config is the workflow's timing and how numbers are released.
type Config struct {
	// Recheck is how long WaitForUnassign waits for a callback before
	// checking Zoom again.
	Recheck time.Duration
	// MaxWait is the overall deadline, from the execution's start, after
	// which a still-assigned number goes back to PENDING_APPROVAL.
	MaxWait time.Duration
	// Mode is how the release removes the number on the Zoom side;
	// default domain.ModeCustomer.
	Mode domain.ReleaseMode
	// CarrierCode is the carrier's Provider Exchange code (ModeCarrier).
	CarrierCode int
	// CarrierAccountID is the carrier's own Zoom account (ModeCarrier):
	// the account of the Server-to-Server OAuth app whose credentials the
	// Zoom client holds. Carrier mode checks and removes numbers with a
	// token of this account, never of the customer's.
	CarrierAccountID string
	// ZoomTimeout bounds the Zoom part of one action; default
	// DefaultZoomTimeout. Keep it under the function's timeout.
	ZoomTimeout time.Duration
	// RetryBudget is how long transient trouble (Zoom or DynamoDB
	// unavailable, Lambda errors) is retried before a release is recorded
	// FAILED; default DefaultRetryBudget. Throttling is retried until the
	// overall deadline (MaxWait) instead.
	RetryBudget time.Duration
	// RetryPause is the longest pause between rounds of retries once a
	// state's own retries are used up (each pause is drawn between half of
	// it and all of it); default DefaultRetryPause.
	RetryPause time.Duration
	// Slots, when set, caps the check and release actions' Zoom work at its
	// size across every invocation (the function's concurrency cap); nil
	// means no cap.
	Slots Slots
	// Queue, when set, gives a check that found every slot held its next
	// turn, at the back of the customer's start queue (*pacing.Pacer), so
	// that it waits for it (OutcomeBusy) instead of retrying blindly. nil,
	// or a queue that fails, answers Tasks.Busy, which the state machine
	// retries with backoff.
	Queue Queue
}

// Queue hands out turns from a customer's start queue (*pacing.Pacer).
type Queue interface {
	Reserve(ctx context.Context, customerID string, n int) ([]time.Time, error)
}

// Defaults of Config's retry settings.
const (
	DefaultRetryBudget = 15 * time.Minute
	DefaultRetryPause  = time.Minute
)

// Validate reports a configuration the tasks cannot work with.
func (c Config) Validate() error {
	var problems []string
	if c.Recheck <= 0 || c.MaxWait <= 0 {
		problems = append(problems, "Recheck and MaxWait must be positive")
	}
	if c.RetryBudget < 0 || c.RetryPause < 0 || (c.RetryPause > 0 && c.RetryPause < time.Second) {
		problems = append(problems, "RetryBudget must not be negative and RetryPause must be 0 (default) or at least 1 s")
	}
	switch c.Mode {
	case "", domain.ModeCustomer:
	case domain.ModeCarrier:
		if c.CarrierCode <= 0 {
			problems = append(problems, "carrier mode needs a positive carrier code (CARRIER_CODE)")
		}
		if strings.TrimSpace(c.CarrierAccountID) == "" {
			problems = append(problems, "carrier mode needs the carrier's Zoom account id (ZOOM_CARRIER_ACCOUNT_ID)")
		}
	default:
		problems = append(problems, fmt.Sprintf("unknown release mode %q", c.Mode))
	}
	if len(problems) > 0 {
		return fmt.Errorf("tasks: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Input is the payload every state sends.
type Input struct {
	Action     string `json:"action"`
	CustomerID string `json:"customer_id"`
	Number     string `json:"number"`
	Attempt    int    `json:"attempt"`
	// StartedAt is when the release's first execution started (RFC 3339),
	// as a successor execution carries it; "" in the first execution,
	// whose own start ExecutionStartedAt is.
	StartedAt          string `json:"started_at,omitempty"`
	ExecutionStartedAt string `json:"execution_started_at,omitempty"`
	// Assignee is who the check found the number assigned to in Zoom.
	Assignee *zoom.Assignee `json:"assignee,omitempty"`
	// ZoomID is what the check found the number as (CheckOutput.ZoomID;
	// "" when Zoom does not have it); the release deletes without a
	// lookup.
	ZoomID    string      `json:"zoom_id,omitempty"`
	TaskToken string      `json:"task_token,omitempty"`
	Error     *StateError `json:"error,omitempty"`
	// TroubleSince is when the transient trouble the triage action weighs
	// began (RFC 3339; "" when this is its first round).
	TroubleSince string `json:"trouble_since,omitempty"`
	// Generation is the calling execution's generation (continue).
	Generation int `json:"generation,omitempty"`
	// StateMachine is the calling execution's state machine ARN (continue).
	StateMachine string `json:"state_machine,omitempty"`
}

// firstStart is when the release's first execution started: the overall
// deadline counts from there. It returns the time and the text it read.
func (in Input) firstStart() (time.Time, string, error) {
	raw := in.StartedAt
	if raw == "" {
		raw = in.ExecutionStartedAt
	}
	started, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, raw, stateErr(ErrMisconfigured, "started_at %q is not a time: %v", raw, err)
	}
	return started, raw, nil
}

// StateError is what a Catch puts at its ResultPath.
type StateError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// CheckOutput answers the check action. Every field is always present: the
// state's ResultSelector reads them all.
type CheckOutput struct {
	Outcome        string         `json:"outcome"`
	Assignee       *zoom.Assignee `json:"assignee"`
	RecheckSeconds int            `json:"recheck_seconds"`
	// ZoomID is what the release removes the number by: in customer mode
	// its Zoom id, in carrier mode the number itself (the Provider
	// Exchange removes by number; the carrier's view has no ids). "" when
	// Zoom does not have the number (not in the customer's account, or not
	// in the carrier's view), or the check did not look: the release then
	// removes nothing in Zoom.
	ZoomID string `json:"zoom_id"`
	// RetryAt is when a busy check takes its turn again (OutcomeBusy;
	// workflow.NotBefore's form), "" otherwise.
	RetryAt string `json:"retry_at"`
}

// accountTTL is how long a warm function trusts a customer's Zoom account
// id it read: a bulk approval's checks and releases would otherwise read the
// same customer item once per action. An operator who moves a customer to
// another Zoom account waits this long (docs/OPERATIONS.md).
const accountTTL = 5 * time.Minute

// Tasks runs the actions.
type Tasks struct {
	store      Store
	zoom       Zoom
	successors workflow.SuccessorStarter
	cfg        Config
	log        *slog.Logger
	now        func() time.Time

	mu       sync.Mutex
	accounts map[string]cachedAccount // customer id → Zoom account
	// seen is what recent listings of Zoom said (lookups.go).
	seen lookups
}

type cachedAccount struct {
	id      string
	expires time.Time
}

// New returns the tasks handler; successors starts the successor execution
// of a long wait (*workflow.Successors).
func New(s Store, z Zoom, successors workflow.SuccessorStarter, cfg Config, log *slog.Logger) *Tasks {
	if cfg.Mode == "" {
		cfg.Mode = domain.ModeCustomer
	}
	if cfg.ZoomTimeout <= 0 {
		cfg.ZoomTimeout = DefaultZoomTimeout
	}
	if cfg.RetryBudget <= 0 {
		cfg.RetryBudget = DefaultRetryBudget
	}
	if cfg.RetryPause <= 0 {
		cfg.RetryPause = DefaultRetryPause
	}
	return &Tasks{store: s, zoom: z, successors: successors, cfg: cfg, log: log, now: time.Now, accounts: map[string]cachedAccount{}}
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
	case "wait_connection":
		err = t.waitConnection(ctx, in)
	case "expire":
		err = t.expire(ctx, in)
	case "fail":
		err = t.fail(ctx, in)
	case "triage":
		out, err = t.triage(in)
	case "continue":
		err = t.continueAsNew(ctx, in)
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

// storeErr names a failed DynamoDB call for the state machine.
func storeErr(op string, err error) error {
	return stateErr(ErrStoreUnavailable, "%s: %v", op, err)
}

func stateErr(name, format string, args ...any) messages.InvokeResponse_Error {
	return messages.InvokeResponse_Error{Type: name, Message: fmt.Sprintf(format, args...)}
}

// owned loads the number and reports whether this execution still owns it.
func (t *Tasks) owned(ctx context.Context, in Input) (domain.Number, bool, error) {
	n, err := t.store.GetNumber(ctx, in.CustomerID, in.Number)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Number{}, false, nil
	}
	if err != nil {
		return domain.Number{}, false, storeErr("read number", err)
	}
	own := n.Attempt == in.Attempt && (n.Status == domain.Releasing || n.Status == domain.WaitingForUnassign)
	return n, own, nil
}

// zoomAccount returns the customer's Zoom account id, read from the store at
// most once per accountTTL; a customer without one is not remembered.
func (t *Tasks) zoomAccount(ctx context.Context, customerID string) (string, error) {
	t.mu.Lock()
	cached, ok := t.accounts[customerID]
	t.mu.Unlock()
	if ok && t.now().Before(cached.expires) {
		return cached.id, nil
	}
	c, err := t.store.GetCustomer(ctx, customerID)
	if errors.Is(err, domain.ErrNotFound) {
		return "", stateErr(ErrMisconfigured, "customer %s does not exist", customerID)
	}
	if err == nil && c.ZoomAccountID == "" {
		// The account is learned when an admin connects Zoom.
		return "", stateErr(ErrZoomNotConnected, "customer %s has not connected Zoom", customerID)
	}
	if err != nil {
		return "", storeErr("read customer", err)
	}
	t.mu.Lock()
	t.accounts[customerID] = cachedAccount{id: c.ZoomAccountID, expires: t.now().Add(accountTTL)}
	t.mu.Unlock()
	return c.ZoomAccountID, nil
}

// takeSlot takes one of the function's concurrency slots for the Zoom work
// of a check, at once or not at all (Tasks.Busy); a table error is
// Store.Unavailable. nil without a cap.
func (t *Tasks) takeSlot(ctx context.Context) (*slots.Lease, error) {
	if t.cfg.Slots == nil {
		return nil, nil
	}
	l, err := t.cfg.Slots.Take(ctx)
	switch {
	case errors.Is(err, slots.ErrBusy):
		return nil, stateErr(ErrTasksBusy, "no release-tasks slot free for Zoom work: %v", err)
	case err != nil:
		return nil, storeErr("take a release-tasks slot", err)
	}
	return &l, nil
}

// giveBack releases a slot takeSlot returned (nil: nothing to do).
func (t *Tasks) giveBack(ctx context.Context, l *slots.Lease) {
	if l == nil {
		return
	}
	if err := t.cfg.Slots.Release(ctx, *l); err != nil {
		t.log.WarnContext(ctx, "release-tasks slot not given back", "err", err)
	}
}

// zoomErr names a Zoom failure for the state machine.
func zoomErr(op string, err error) error {
	name := map[zoom.Kind]string{
		zoom.Throttled:      ErrZoomThrottled,
		zoom.Unavailable:    ErrZoomUnavailable,
		zoom.Assigned:       ErrZoomAssigned,
		zoom.BadCredentials: ErrZoomBadCredentials,
		zoom.Rejected:       ErrZoomRejected,
		zoom.NotConnected:   ErrZoomNotConnected,
	}[zoom.KindOf(err)]
	if name == "" {
		return fmt.Errorf("%s: %w", op, err)
	}
	return stateErr(name, "%s: %v", op, err)
}
