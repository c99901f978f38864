package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
)

// MaxRequestIDLength bounds a request id given in a path; longer ones name
// no request.
const MaxRequestIDLength = 128

// countParallelism bounds how many requests of one listing page have their
// numbers read at once.
const countParallelism = 8

// RequestSummary is a provider's request with its counts per status.
type RequestSummary struct {
	domain.Request
	Counts map[domain.Status]int
}

// RequestSummaries is one page of a provider's requests, newest first.
type RequestSummaries struct {
	Items      []RequestSummary
	NextCursor string
}

// RequestDetail is a provider's request with each of its numbers.
type RequestDetail struct {
	domain.Request
	Numbers []domain.RequestNumber
}

// CancelRequestOutput answers the cancellation of a whole request: one
// result per number of the request, by number.
type CancelRequestOutput struct {
	RequestID string   `json:"request_id"`
	Results   []Result `json:"results"`
}

// ListRequests lists the caller's release requests, newest first (of one
// linked customer when customerID is set), each with its counts per status.
func (s *Service) ListRequests(ctx context.Context, p auth.Principal, customerID string, q ListParams) (RequestSummaries, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return RequestSummaries{}, err
	}
	if q.Limit < 0 || q.Limit > domain.MaxRequestPageSize {
		return RequestSummaries{}, apperr.New(apperr.Invalid, "limit must be between 1 and %d", domain.MaxRequestPageSize)
	}
	if customerID != "" {
		if err := checkCustomerID(customerID); err != nil {
			return RequestSummaries{}, err
		}
		if err := s.requireLink(ctx, providerID, customerID); err != nil {
			return RequestSummaries{}, err
		}
	}
	page, err := s.store.ListRequests(ctx, domain.RequestQuery{ProviderID: providerID, CustomerID: customerID, Limit: q.Limit, Cursor: q.Cursor})
	if errors.Is(err, domain.ErrBadCursor) {
		return RequestSummaries{}, apperr.New(apperr.Invalid, "cursor is not valid for this listing; start again without it")
	}
	if err != nil {
		return RequestSummaries{}, fmt.Errorf("list requests: %w", err)
	}
	out := RequestSummaries{Items: make([]RequestSummary, len(page.Items)), NextCursor: page.NextCursor}
	errs := make([]error, len(page.Items))
	sem := make(chan struct{}, countParallelism)
	var wg sync.WaitGroup
	for i, r := range page.Items {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			nums, err := s.store.RequestNumbers(ctx, r)
			if err != nil {
				errs[i] = err
				return
			}
			counts := map[domain.Status]int{}
			for _, n := range nums {
				counts[n.Status]++
			}
			out.Items[i] = RequestSummary{Request: r, Counts: counts}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return RequestSummaries{}, fmt.Errorf("count request numbers: %w", err)
	}
	return out, nil
}

// GetRequest returns one of the caller's requests with its numbers. A
// request of another provider, and one that does not exist, answer the
// same 404.
func (s *Service) GetRequest(ctx context.Context, p auth.Principal, requestID string) (RequestDetail, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return RequestDetail{}, err
	}
	r, err := s.ownRequest(ctx, providerID, requestID)
	if err != nil {
		return RequestDetail{}, err
	}
	nums, err := s.store.RequestNumbers(ctx, r)
	if err != nil {
		return RequestDetail{}, fmt.Errorf("read request %s: %w", requestID, err)
	}
	return RequestDetail{Request: r, Numbers: nums}, nil
}

// CancelRequest cancels every number of one of the caller's requests that
// can still be cancelled, as Cancel would each, and answers a result per
// number: its status (CANCELLED, or already so), or why it could not be
// cancelled (the refusal Cancel gives, e.g. a number already RELEASING).
// Sending it again changes nothing and answers the same results.
func (s *Service) CancelRequest(ctx context.Context, p auth.Principal, requestID string) (CancelRequestOutput, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return CancelRequestOutput{}, err
	}
	r, err := s.ownRequest(ctx, providerID, requestID)
	if err != nil {
		return CancelRequestOutput{}, err
	}
	nums, err := s.store.RequestNumbers(ctx, r)
	if err != nil {
		return CancelRequestOutput{}, fmt.Errorf("read request %s: %w", requestID, err)
	}
	out := CancelRequestOutput{RequestID: r.ID, Results: make([]Result, len(nums))}
	at := make([]int, len(nums))
	for i := range nums {
		at[i] = i
	}
	budget := newWorkBudget(ctx)
	forEach(at, func(i int) Result {
		n := nums[i]
		if budget.spent() {
			return notReached(n.Number)
		}
		if n.Status == domain.Cancelled {
			return Result{Number: n.Number, Status: string(n.Status)}
		}
		if err := cancellable(n.Number, n.Status); err != nil {
			return refusal(n.Number, err)
		}
		res, err := s.cancelNumber(ctx, p, providerID, r.CustomerID, n.Number, r.ID)
		var ae *apperr.Error
		switch {
		case errors.As(err, &ae):
			return refusal(n.Number, err)
		case err != nil:
			return s.internal(ctx, n.Number, err)
		}
		return res
	}, out.Results)
	s.log.InfoContext(ctx, "release request cancelled", "provider_id", providerID, "customer_id", r.CustomerID,
		"request_id", r.ID, "numbers", len(nums))
	return out, nil
}

// refusal is a number's result for a caller error (an *apperr.Error).
func refusal(e164 string, err error) Result {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return failed(e164, apperr.Internal, "an internal error occurred; it has been logged")
	}
	return failed(e164, ae.Code, "%s", ae.Message)
}

// ownRequest reads a request of providerID's; any other answers 404.
func (s *Service) ownRequest(ctx context.Context, providerID, requestID string) (domain.Request, error) {
	notFound := apperr.New(apperr.NotFound, "no release request %q of provider %s", requestID, providerID)
	if !plausibleRequestID(requestID) {
		return domain.Request{}, notFound
	}
	r, err := s.store.GetRequest(ctx, requestID)
	if errors.Is(err, domain.ErrNotFound) || err == nil && r.ProviderID != providerID {
		return domain.Request{}, notFound
	}
	if err != nil {
		return domain.Request{}, fmt.Errorf("read request %s: %w", requestID, err)
	}
	return r, nil
}

// plausibleRequestID reports whether id could name a request: ids are
// short, printable and without spaces (the service makes UUIDs).
func plausibleRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLength {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || unicode.IsSpace(r) }) < 0
}
