// Package release holds the use cases of Number Release: providers request
// and cancel releases, customers approve and reject them and read status and
// history. Handlers call it; it calls the store and the workflow.
package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/number"
	"numberrelease/shared/workflow"
)

// Store is what the service needs from storage.
type Store interface {
	GetNumber(ctx context.Context, customerID, e164 string) (domain.Number, error)
	GetNumbers(ctx context.Context, customerID string, numbers []string) (map[string]domain.Number, error)
	Apply(ctx context.Context, c domain.Change) (domain.Number, error)
	ApplyAll(ctx context.Context, changes []domain.Change) ([]domain.Number, error)
	ApplyEach(ctx context.Context, changes []domain.Change) ([]domain.Number, []error)
	History(ctx context.Context, customerID, e164 string) ([]domain.HistoryEntry, error)
	ListNumbers(ctx context.Context, q domain.ListQuery) (domain.Page, error)
	IsLinked(ctx context.Context, providerID, customerID string) (bool, error)
	// ApplyRequest records a provider's new request with its numbers'
	// changes (ApplyAll, the request's record in the first transaction).
	ApplyRequest(ctx context.Context, r domain.Request, changes []domain.Change) ([]domain.Number, error)
	GetRequest(ctx context.Context, requestID string) (domain.Request, error)
	RequestNumbers(ctx context.Context, r domain.Request) ([]domain.RequestNumber, error)
	ListRequests(ctx context.Context, q domain.RequestQuery) (domain.RequestPage, error)
}

// Workflow starts release executions, wakes waiting ones, and reads the
// successor execution a long wait goes on in.
type Workflow interface {
	workflow.Starter
	workflow.Rechecker
	workflow.Describer
}

// Limits.
const (
	MaxReasonLength = 500
	// approveParallelism bounds concurrent per-number writes of one request.
	approveParallelism = 16
	// conflictRetries is how often a per-number action re-reads and retries
	// after losing a race.
	conflictRetries = 3
)

// Bounds on one multi-number call's work.
const (
	// writeSlice is how many changes are written between two looks at
	// the call's deadline (two transactions of 50 numbers).
	writeSlice = 100
	// answerReserve is the time kept before the call's deadline to answer
	// with what was done; past deadline-answerReserve nothing new starts.
	answerReserve = 3 * time.Second
)

// workBudget tells a multi-number call when to stop starting work. A call
// without a deadline is not bounded.
type workBudget struct {
	stop     time.Time
	deadline time.Time
	bounded  bool
}

func newWorkBudget(ctx context.Context) workBudget {
	d, ok := ctx.Deadline()
	if !ok {
		return workBudget{}
	}
	return workBudget{stop: d.Add(-answerReserve), deadline: d, bounded: true}
}

// spent reports whether no new work may start.
func (b workBudget) spent() bool { return b.bounded && !time.Now().Before(b.stop) }

// callContext bounds one write so that even a hung one leaves two thirds
// of the reserve: time to read what it did, and to answer.
func (b workBudget) callContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !b.bounded {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, b.deadline.Add(-2*answerReserve/3))
}

// readContext bounds the read that confirms writes of unknown outcome,
// keeping a sixth of the reserve to answer in.
func (b workBudget) readContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !b.bounded {
		return ctx, func() {}
	}
	return context.WithDeadline(ctx, b.deadline.Add(-answerReserve/6))
}

// notReached answers a number the call ran out of time for. Sending it
// again is safe whatever happened to it: every action is idempotent.
func notReached(e164 string) Result {
	return failed(e164, apperr.Unavailable, "%s was not reached before this request ran out of time; send it again", e164)
}

// notConfirmed answers a number whose write may or may not have landed
// when the call ran out of time. Sending it again is safe and settles it.
func notConfirmed(e164 string) Result {
	return failed(e164, apperr.Unavailable, "%s could not be confirmed before this request ran out of time; send it again (sending it twice is safe)", e164)
}

// Service implements the use cases.
type Service struct {
	store    Store
	workflow Workflow
	log      *slog.Logger
	newID    func() string
}

// New returns a service.
func New(s Store, wf Workflow, log *slog.Logger) *Service {
	return &Service{store: s, workflow: wf, log: log, newID: func() string { return uuid.NewString() }}
}

// Result is the outcome for one number of a multi-number action: a status,
// or an error the caller can act on.
type Result struct {
	Number string `json:"number"`
	Status string `json:"status,omitempty"`
	// RequestID names the provider's request the number belongs to (in the
	// answers to providers).
	RequestID string `json:"request_id,omitempty"`
	// Message is the number's message, when it has one (e.g. why it
	// failed, or that it is assigned in Zoom).
	Message string `json:"message,omitempty"`
	// ZoomAssignee is whom the number is assigned to in Zoom, while it is
	// WAITING_FOR_UNASSIGN.
	ZoomAssignee *ResultAssignee `json:"zoom_assignee,omitempty"`
	Error        *ResultError    `json:"error,omitempty"`
}

// ResultAssignee is who holds a number in Zoom, in a Result.
type ResultAssignee struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	ExtensionNumber string `json:"extension_number,omitempty"`
}

// ResultError explains why one number was not acted on.
type ResultError struct {
	Code   apperr.Code `json:"code"`
	Detail string      `json:"detail"`
}

// ok answers a number with its status, its message and, while it waits
// for its Zoom unassignment, its assignee.
func ok(n domain.Number) Result {
	r := Result{Number: n.Number, Status: string(n.Status), Message: n.Message}
	if a := n.Assignee; a != nil && n.Status == domain.WaitingForUnassign {
		r.ZoomAssignee = &ResultAssignee{ID: a.ID, Name: a.Name, Type: a.Type, ExtensionNumber: a.ExtensionNumber}
	}
	return r
}

func failed(e164 string, code apperr.Code, format string, args ...any) Result {
	return Result{Number: e164, Error: &ResultError{Code: code, Detail: fmt.Sprintf(format, args...)}}
}

// ParseNumbers normalises a request's numbers all-or-nothing, or returns a
// 400 naming every offending value.
func ParseNumbers(raw []string) ([]string, error) {
	nums, err := number.ParseList(raw)
	var inv *number.InvalidError
	if errors.As(err, &inv) {
		return nil, apperr.New(apperr.InvalidNumbers, "%d of the numbers given are not acceptable; nothing was changed", len(inv.Problems)).
			With("invalid_numbers", inv.Problems)
	}
	return nums, err
}

// ParsePathNumber reads a number from a URL path segment, which may arrive
// percent-encoded (%2B...) or without its +.
func ParsePathNumber(raw string) (string, error) {
	if strings.Contains(raw, "%") {
		if dec, err := url.PathUnescape(raw); err == nil {
			raw = dec
		}
	}
	n, err := number.Parse(raw)
	if err != nil {
		return "", apperr.New(apperr.InvalidNumbers, "%q is not a phone number", raw).
			With("invalid_numbers", []number.Problem{{Value: raw, Reason: err.Error()}})
	}
	return n, nil
}

// forEach runs fn for every index of at with bounded parallelism, storing
// each answer at its index in results.
func forEach(at []int, fn func(int) Result, results []Result) {
	sem := make(chan struct{}, approveParallelism)
	var wg sync.WaitGroup
	for _, i := range at {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = fn(i)
		}()
	}
	wg.Wait()
}

// retryOnConflict reads the number and runs step on it until step does not
// lose a race, at most conflictRetries times.
func (s *Service) retryOnConflict(ctx context.Context, customerID, e164 string, step func(cur domain.Number, found bool) (Result, error)) Result {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetNumber(ctx, customerID, e164)
		found := err == nil
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return s.internal(ctx, e164, fmt.Errorf("re-read: %w", err))
		}
		res, err := step(cur, found)
		if err == nil {
			return res
		}
		if !errors.Is(err, domain.ErrConflict) {
			return s.internal(ctx, e164, err)
		}
		if attempt >= conflictRetries {
			s.log.WarnContext(ctx, "number kept changing", "customer_id", customerID, "number", e164)
			return failed(e164, apperr.Conflict, "the number kept changing while this request ran; try again")
		}
	}
}

// internal logs an unexpected error of one number and answers it without
// its detail.
func (s *Service) internal(ctx context.Context, e164 string, err error) Result {
	s.log.ErrorContext(ctx, "number action failed", "number", e164, "err", err)
	return failed(e164, apperr.Internal, "an internal error occurred; it has been logged")
}

// transition copies a number with a new status; the caller adjusts the rest.
func transition(cur domain.Number, to domain.Status) domain.Number {
	next := cur
	next.Status = to
	return next
}

// principalCustomer returns the tenant a customer admin acts for.
func principalCustomer(p auth.Principal) (string, error) {
	if p.Role != auth.RoleCustomerAdmin || p.TenantID == "" {
		return "", apperr.New(apperr.Forbidden, "this operation is for customer admins")
	}
	return p.TenantID, nil
}

func principalProvider(p auth.Principal) (string, error) {
	if p.Role != auth.RoleProvider || p.ProviderID == "" {
		return "", apperr.New(apperr.Forbidden, "this operation is for providers")
	}
	return p.ProviderID, nil
}
