package release

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/workflow"
)

// ListParams are a listing's query parameters, as given.
type ListParams struct {
	// Status is one status or a comma-separated list of them.
	Status string
	// Query is the q parameter: the beginning of the numbers to list.
	Query  string
	Cursor string
	Limit  int
}

// MaxQueryDigits is the most digits q may have (E.164's longest number).
const MaxQueryDigits = 15

// CustomerList lists the caller's own numbers: of several statuses at once
// (status=A,B) and by the beginning of the number (q) too.
func (s *Service) CustomerList(ctx context.Context, p auth.Principal, q ListParams) (domain.Page, error) {
	customerID, err := principalCustomer(p)
	if err != nil {
		return domain.Page{}, err
	}
	return s.list(ctx, domain.ListQuery{CustomerID: customerID}, q)
}

// parseStatuses reads a comma-separated list of statuses; duplicates are
// ignored, and an unknown or empty one is refused, naming it.
func parseStatuses(raw string) ([]domain.Status, error) {
	if raw == "" {
		return nil, nil
	}
	var out []domain.Status
	for _, name := range strings.Split(raw, ",") {
		if name == "" {
			return nil, apperr.New(apperr.Invalid, "status %q has an empty element; give statuses separated by single commas", raw)
		}
		st, err := domain.ParseStatus(name)
		if err != nil {
			return nil, apperr.New(apperr.Invalid, "status %q is not one of %v", name, domain.Statuses)
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	return out, nil
}

// parseNumberQuery reads q, the beginning of the numbers to list in E.164
// (country code first), with or without its "+": 1 to 15 digits. It
// returns the prefix of the E.164 form ("+9723"), or "" without q.
func parseNumberQuery(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	digits := strings.TrimPrefix(raw, "+")
	if digits == "" || len(digits) > MaxQueryDigits || strings.Trim(digits, "0123456789") != "" {
		return "", apperr.New(apperr.Invalid, "q %q is not the beginning of a phone number: give 1 to %d digits, country code first, with or without a leading +", raw, MaxQueryDigits)
	}
	return "+" + digits, nil
}

// list reads one page of a listing, filtered by the statuses and the
// beginning of the number that params give.
func (s *Service) list(ctx context.Context, q domain.ListQuery, params ListParams) (domain.Page, error) {
	var err error
	if q.Statuses, err = parseStatuses(params.Status); err != nil {
		return domain.Page{}, err
	}
	if q.Prefix, err = parseNumberQuery(params.Query); err != nil {
		return domain.Page{}, err
	}
	if params.Limit < 0 || params.Limit > domain.MaxPageSize {
		return domain.Page{}, apperr.New(apperr.Invalid, "limit must be between 1 and %d", domain.MaxPageSize)
	}
	q.Limit, q.Cursor = params.Limit, params.Cursor
	page, err := s.store.ListNumbers(ctx, q)
	if errors.Is(err, domain.ErrBadCursor) {
		return domain.Page{}, apperr.New(apperr.Invalid, "cursor is not valid for this listing; start again without it")
	}
	return page, err
}

// Detail is a number with its history.
type Detail struct {
	domain.Number
	History []domain.HistoryEntry
}

// Get returns one of the caller's numbers with its history (released ones too).
func (s *Service) Get(ctx context.Context, p auth.Principal, rawNumber string) (Detail, error) {
	customerID, err := principalCustomer(p)
	if err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, customerID, rawNumber)
}

// detail reads one number of a customer with its history.
func (s *Service) detail(ctx context.Context, customerID, rawNumber string) (Detail, error) {
	n, err := ParsePathNumber(rawNumber)
	if err != nil {
		return Detail{}, err
	}
	cur, err := s.store.GetNumber(ctx, customerID, n)
	if errors.Is(err, domain.ErrNotFound) {
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
// The approvals are written in transactions of up to 50 numbers, and the
// answer does not wait for the workflows: each RELEASING write is on the
// table's stream, where the starter (shared/starter) starts its execution,
// so a 500-number approval answers in the time of ten writes, and no crash
// between the write and the start can leave a number without one.
// Approving a number that is already RELEASING makes sure its execution
// runs (a start is idempotent by name); approving one that waits for its
// Zoom unassignment re-checks it now.
func (s *Service) Approve(ctx context.Context, p auth.Principal, raw []string) ([]Result, error) {
	return s.perNumber(ctx, p, raw, s.approveOne)
}

// Reject declines the caller's numbers that await approval, with an
// optional reason (CheckRejectReason): it is recorded on each REJECTED
// history entry and becomes the number's message, which the provider sees
// in its listing and request detail.
func (s *Service) Reject(ctx context.Context, p auth.Principal, raw []string, reason string) ([]Result, error) {
	if _, err := principalCustomer(p); err != nil {
		return nil, err
	}
	reason, err := CheckRejectReason(reason)
	if err != nil {
		return nil, err
	}
	return s.perNumber(ctx, p, raw, func(p auth.Principal, cur domain.Number, found bool, n string) plan {
		return s.rejectOne(p, cur, found, n, reason)
	})
}

// CheckRejectReason trims a rejection's reason and checks it: at most
// MaxReasonLength characters, one line of text (no control characters).
// It returns the reason as recorded ("" for none).
func CheckRejectReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n > MaxReasonLength {
		return "", apperr.New(apperr.Invalid, "reason is %d characters; at most %d are allowed", n, MaxReasonLength)
	}
	if !utf8.ValidString(reason) {
		return "", apperr.New(apperr.Invalid, "reason is not valid UTF-8")
	}
	for _, r := range reason {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", apperr.New(apperr.Invalid, "reason holds a control character or line break (%U); give one line of text", r)
		}
	}
	return reason, nil
}

// rejectedMessage is the message of a number rejected with a reason.
func rejectedMessage(reason string) string {
	if reason == "" {
		return ""
	}
	return "rejected by the customer: " + reason
}

// plan is what an action decides for one number from its current state:
// an answer as it stands, a change to write (answered with the number as
// written), or a follow-up that needs no write of its own.
type plan struct {
	result Result
	change *domain.Change
	then   func(ctx context.Context) Result
}

type numberAction func(p auth.Principal, cur domain.Number, found bool, e164 string) plan

// perNumber reads the numbers at once, decides each, writes every change in
// batches, and for each number whose write did not land (it moved
// meanwhile, or the outcome is unknown) reads it again and decides anew
// (at most conflictRetries times).
//
// The work is bounded by the call's deadline (on AWS, the Lambda's
// timeout): past it, less answerReserve, nothing new is started, and each
// number not reached is answered unavailable "send it again". Every
// number answered ok is done, every other one is untouched or safe to
// send again, so a slow store never leaves a half-done approval the
// caller cannot see.
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
	results := make([]Result, len(nums))
	plans := make([]plan, len(nums))
	var changes []domain.Change
	var changeAt []int
	for i, n := range nums {
		cur, found := current[n]
		plans[i] = act(p, cur, found, n)
		if plans[i].change != nil {
			changes = append(changes, *plans[i].change)
			changeAt = append(changeAt, i)
		}
	}
	var again []int
	budget := newWorkBudget(ctx)
	for from := 0; from < len(changes); from += writeSlice {
		to := min(from+writeSlice, len(changes))
		if budget.spent() {
			for _, i := range changeAt[from:to] {
				results[i] = notReached(nums[i])
			}
			continue
		}
		wctx, cancel := budget.callContext(ctx)
		written, errs := s.store.ApplyEach(wctx, changes[from:to])
		cancel()
		for j, i := range changeAt[from:to] {
			switch {
			case errs[j] == nil:
				results[i] = ok(written[j])
			default:
				// The number moved meanwhile, or the write's outcome is
				// unknown (its answer may have been lost after it
				// committed): read it again and decide anew, which
				// answers truthfully either way.
				if !errors.Is(errs[j], domain.ErrConflict) {
					s.log.WarnContext(ctx, "write failed; reading the number again", "number", nums[i], "err", errs[j])
				}
				again = append(again, i)
			}
		}
	}
	if len(again) > 0 && budget.spent() {
		again = s.confirmLanded(ctx, budget, customerID, nums, plans, again, results)
	}
	var follow []int
	for i, pl := range plans {
		switch {
		case pl.then != nil:
			follow = append(follow, i)
		case pl.change == nil:
			results[i] = pl.result
		}
	}
	forEach(again, func(i int) Result {
		if budget.spent() {
			return notConfirmed(nums[i])
		}
		return s.retryOnConflict(ctx, customerID, nums[i], func(cur domain.Number, found bool) (Result, error) {
			pl := act(p, cur, found, nums[i])
			switch {
			case pl.then != nil:
				return pl.then(ctx), nil
			case pl.change == nil:
				return pl.result, nil
			}
			written, err := s.store.Apply(ctx, *pl.change)
			return ok(written), err
		})
	}, results)
	forEach(follow, func(i int) Result {
		if budget.spent() {
			return notReached(nums[i])
		}
		return plans[i].then(ctx)
	}, results)
	return results, nil
}

// confirmLanded reads, in the time kept to answer, the numbers whose write
// had an unknown outcome when the call ran out of time, and answers ok
// those the write changed (the next version, in the written status). It
// returns the others.
func (s *Service) confirmLanded(ctx context.Context, budget workBudget, customerID string, nums []string, plans []plan, again []int, results []Result) []int {
	rctx, cancel := budget.readContext(ctx)
	defer cancel()
	want := make([]string, len(again))
	for k, i := range again {
		want[k] = nums[i]
	}
	current, err := s.store.GetNumbers(rctx, customerID, want)
	if err != nil {
		s.log.WarnContext(ctx, "could not confirm writes before the deadline", "numbers", len(again), "err", err)
		return again
	}
	var unknown []int
	for _, i := range again {
		c := plans[i].change
		if cur, found := current[nums[i]]; found && cur.Version == c.Prev.Version+1 && cur.Status == c.Next.Status {
			results[i] = ok(cur)
			continue
		}
		unknown = append(unknown, i)
	}
	return unknown
}

func (s *Service) approveOne(p auth.Principal, cur domain.Number, found bool, n string) plan {
	if !found {
		return plan{result: failed(n, apperr.NotFound, "%s has no release request", n)}
	}
	switch cur.Status {
	case domain.Released:
		return plan{result: ok(cur)} // done: approving again is harmless
	case domain.Releasing:
		return plan{then: func(ctx context.Context) Result { return s.ensureRunning(ctx, p, cur) }}
	case domain.WaitingForUnassign:
		return plan{then: func(ctx context.Context) Result {
			if cur.TaskToken != "" {
				if err := s.workflow.Recheck(ctx, cur.TaskToken); err != nil {
					// The workflow's timer re-checks anyway; the customer need not retry.
					s.log.WarnContext(ctx, "recheck failed", "number", n, "err", err)
				}
			}
			return ok(cur)
		}}
	case domain.PendingApproval, domain.Failed:
	default:
		return plan{result: failed(n, apperr.InvalidStatus, "%s is %s; only numbers pending approval (or failed) can be released", n, cur.Status)}
	}
	next := transition(cur, domain.Releasing)
	next.Attempt++
	next.Execution = workflow.Release{CustomerID: cur.CustomerID, Number: n, Attempt: next.Attempt}.ExecutionName()
	next.Message, next.Assignee, next.TaskToken = "", nil, ""
	return plan{change: &domain.Change{Prev: cur, Next: next, Actor: actor(p), Why: "release approved by customer"}}
}

// ensureRunning makes sure the execution of a RELEASING number's attempt
// exists: it starts it if it never started (the starter's start may still
// be on its way; a start is idempotent by name), or finds the successor
// execution the number records running. If that execution has already
// ended without moving the number on, the number is recorded FAILED with
// the reason and approved again as a new attempt, so approving again always
// repairs a stuck release.
func (s *Service) ensureRunning(ctx context.Context, p auth.Principal, cur domain.Number) Result {
	n := cur.Number
	rel := workflow.Release{CustomerID: cur.CustomerID, Number: n, Attempt: cur.Attempt}
	var err error
	if cur.Execution != "" && cur.Execution != rel.ExecutionName() {
		// A successor execution carries the attempt on (a long wait goes
		// on in a fresh history): it was started before it was recorded,
		// so it runs or has ended (or is gone, which is the same here).
		var ex workflow.Execution
		if ex, err = s.workflow.Describe(ctx, cur.Execution); (err == nil && !ex.Running) || errors.Is(err, workflow.ErrNoExecution) {
			err = workflow.ErrEnded
		}
	} else {
		err = s.workflow.Start(ctx, rel)
	}
	if err == nil {
		return ok(cur)
	}
	if !errors.Is(err, workflow.ErrEnded) {
		s.log.ErrorContext(ctx, "start release workflow", "number", n, "execution", cur.Execution, "err", err)
		return failed(n, apperr.Unavailable, "%s is releasing, but its workflow could not be checked; approve it again in a minute", n)
	}
	const why = "the release workflow ended without finishing"
	return s.retryOnConflict(ctx, cur.CustomerID, n, func(c domain.Number, found bool) (Result, error) {
		if !found || c.Status != domain.Releasing || c.Attempt != cur.Attempt {
			return ok(c), nil // it moved on meanwhile
		}
		f := transition(c, domain.Failed)
		f.Message, f.TaskToken = why+"; approving again", ""
		failedNum, err := s.store.Apply(ctx, domain.Change{Prev: c, Next: f, Actor: "system", Why: why})
		if err != nil {
			return Result{}, err
		}
		pl := s.approveOne(p, failedNum, true, n)
		written, err := s.store.Apply(ctx, *pl.change)
		return ok(written), err
	})
}

func (s *Service) rejectOne(p auth.Principal, cur domain.Number, found bool, n, reason string) plan {
	if !found {
		return plan{result: failed(n, apperr.NotFound, "%s has no release request", n)}
	}
	if cur.Status == domain.Rejected {
		return plan{result: ok(cur)}
	}
	if !domain.CanTransition(cur.Status, domain.Rejected) {
		return plan{result: failed(n, apperr.InvalidStatus, "%s is %s; only numbers pending approval (or failed) can be rejected", n, cur.Status)}
	}
	if cur.RemovalStarted {
		return plan{result: failed(n, apperr.InvalidStatus, "%s failed after its removal was sent to Zoom, so Zoom may have removed it; approve it again to settle it", n)}
	}
	next := transition(cur, domain.Rejected)
	next.Message = rejectedMessage(reason)
	why := "release rejected by customer"
	if reason != "" {
		why += ": " + reason
	}
	return plan{change: &domain.Change{Prev: cur, Next: next, Actor: actor(p), Why: why}}
}
