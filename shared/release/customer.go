package release

import (
	"context"
	"errors"
	"fmt"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/number"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

// ListParams are a listing's query parameters, as given.
type ListParams struct {
	Status string
	Cursor string
	Limit  int
}

// CustomerList lists the caller's own numbers.
func (s *Service) CustomerList(ctx context.Context, p auth.Principal, q ListParams) (store.Page, error) {
	customerID, err := principalCustomer(p)
	if err != nil {
		return store.Page{}, err
	}
	return s.list(ctx, store.ListQuery{CustomerID: customerID}, q)
}

func (s *Service) list(ctx context.Context, q store.ListQuery, params ListParams) (store.Page, error) {
	if params.Status != "" {
		st, err := number.ParseStatus(params.Status)
		if err != nil {
			return store.Page{}, apperr.New(apperr.Invalid, "status %q is not one of %v", params.Status, number.Statuses)
		}
		q.Status = st
	}
	if params.Limit < 0 || params.Limit > store.MaxPageSize {
		return store.Page{}, apperr.New(apperr.Invalid, "limit must be between 1 and %d", store.MaxPageSize)
	}
	q.Limit, q.Cursor = params.Limit, params.Cursor
	page, err := s.store.ListNumbers(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		return store.Page{}, apperr.New(apperr.Invalid, "cursor is not valid for this listing; start again without it")
	}
	return page, err
}

// Detail is a number with its history.
type Detail struct {
	store.Number
	History []store.HistoryEntry
}

// Get returns one of the caller's numbers with its history (released ones too).
func (s *Service) Get(ctx context.Context, p auth.Principal, rawNumber string) (Detail, error) {
	customerID, err := principalCustomer(p)
	if err != nil {
		return Detail{}, err
	}
	n, err := ParsePathNumber(rawNumber)
	if err != nil {
		return Detail{}, err
	}
	cur, err := s.store.GetNumber(ctx, customerID, n)
	if errors.Is(err, store.ErrNotFound) {
		return Detail{}, apperr.New(apperr.NotFound, "number %s not found", n)
	}
	if err != nil {
		return Detail{}, fmt.Errorf("read number: %w", err)
	}
	hist, err := s.store.History(ctx, customerID, n)
	if err != nil {
		return Detail{}, fmt.Errorf("read history: %w", err)
	}
	return Detail{Number: cur, History: hist}, nil
}

// Approve releases the caller's numbers that await approval (or failed
// before), each on its own: one refused number does not stop the others.
// Approving a number that waits for its Zoom unassignment re-checks it now.
func (s *Service) Approve(ctx context.Context, p auth.Principal, raw []string) ([]Result, error) {
	return s.perNumber(ctx, p, raw, s.approveOne)
}

// Reject declines the caller's numbers that await approval.
func (s *Service) Reject(ctx context.Context, p auth.Principal, raw []string) ([]Result, error) {
	return s.perNumber(ctx, p, raw, s.rejectOne)
}

type numberAction func(ctx context.Context, p auth.Principal, cur store.Number, found bool, e164 string) (Result, error)

func (s *Service) perNumber(ctx context.Context, p auth.Principal, raw []string, act numberAction) ([]Result, error) {
	customerID, err := principalCustomer(p)
	if err != nil {
		return nil, err
	}
	nums, err := ParseNumbers(raw)
	if err != nil {
		return nil, err
	}
	current, err := s.store.GetNumbers(ctx, customerID, nums)
	if err != nil {
		return nil, fmt.Errorf("read numbers: %w", err)
	}
	return forEach(nums, func(n string) Result {
		cur, found := current[n]
		return s.retryOnConflict(ctx, customerID, n, cur, found, func(cur store.Number, found bool) (Result, error) {
			return act(ctx, p, cur, found, n)
		})
	}), nil
}

func (s *Service) approveOne(ctx context.Context, p auth.Principal, cur store.Number, found bool, n string) (Result, error) {
	if !found {
		return failed(n, apperr.NotFound, "%s has no release request", n), nil
	}
	switch cur.Status {
	case number.Releasing, number.Released:
		return ok(cur), nil // already on its way or done: approving again is harmless
	case number.WaitingForUnassign:
		if cur.TaskToken != "" {
			if err := s.workflow.Recheck(ctx, cur.TaskToken); err != nil {
				// The workflow's timer re-checks anyway; the customer need not retry.
				s.log.WarnContext(ctx, "recheck failed", "number", n, "err", err)
			}
		}
		return ok(cur), nil
	case number.PendingApproval, number.Failed:
	default:
		return failed(n, apperr.InvalidStatus, "%s is %s; only numbers pending approval (or failed) can be released", n, cur.Status), nil
	}
	next := transition(cur, number.Releasing)
	next.Attempt++
	rel := workflow.Release{CustomerID: cur.CustomerID, Number: n, Attempt: next.Attempt}
	next.Execution, next.Message, next.Assignee, next.TaskToken = rel.ExecutionName(), "", nil, ""
	written, err := s.store.Apply(ctx, store.Change{Prev: cur, Next: next, Actor: p.Actor(), Why: "release approved by customer"})
	if err != nil {
		return Result{}, err
	}
	if err := s.workflow.Start(ctx, rel); err != nil {
		s.log.ErrorContext(ctx, "start release workflow", "number", n, "execution", rel.ExecutionName(), "err", err)
		return s.failStart(ctx, written, n)
	}
	return ok(written), nil
}

// failStart records a workflow that could not start as FAILED, so the number
// is never left RELEASING with nothing to move it on; the customer may
// approve it again.
func (s *Service) failStart(ctx context.Context, cur store.Number, n string) (Result, error) {
	const msg = "the release could not be started; approve the number again to retry"
	next := transition(cur, number.Failed)
	next.Message = msg
	// A fresh context: the caller's may be cancelled, and this write must land.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.store.Apply(wctx, store.Change{Prev: cur, Next: next, Actor: "system", Why: msg}); err != nil {
		return Result{}, fmt.Errorf("record failed start of %s: %w", n, err)
	}
	return failed(n, apperr.Unavailable, "%s", msg), nil
}

func (s *Service) rejectOne(ctx context.Context, p auth.Principal, cur store.Number, found bool, n string) (Result, error) {
	if !found {
		return failed(n, apperr.NotFound, "%s has no release request", n), nil
	}
	if cur.Status == number.Rejected {
		return ok(cur), nil
	}
	if !number.CanTransition(cur.Status, number.Rejected) {
		return failed(n, apperr.InvalidStatus, "%s is %s; only numbers pending approval (or failed) can be rejected", n, cur.Status), nil
	}
	next := transition(cur, number.Rejected)
	next.Message = ""
	written, err := s.store.Apply(ctx, store.Change{Prev: cur, Next: next, Actor: p.Actor(), Why: "release rejected by customer"})
	if err != nil {
		return Result{}, err
	}
	return ok(written), nil
}
