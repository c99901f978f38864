package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/ident"
)

// RequestInput is a provider's request to release numbers.
type RequestInput struct {
	CustomerID string   `json:"customer_id"`
	Numbers    []string `json:"numbers"`
	Reason     string   `json:"reason,omitempty"`
}

// RequestOutput answers a release request.
type RequestOutput struct {
	RequestID string   `json:"request_id"`
	Numbers   []Result `json:"numbers"`
}

// Conflict names a number that cannot be requested now.
type Conflict struct {
	Number string `json:"number"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// RequestRelease records a provider's request to release numbers of one
// linked customer.
//
// Every number is checked before anything is written: an invalid or
// duplicate number (400), or one that cannot be requested now (409: open
// at another provider, or already released), refuses the whole request and
// nothing is written. Numbers this provider already asked for and that are
// still open are reported with their status and the request they belong
// to, not asked again.
//
// The numbers asked for now are then written, with the request's own
// record (store.ApplyRequest), in transactions of at most 33 numbers (a
// number, its history entry and its request member item are three of a
// DynamoDB transaction's 100 items), so the writing is not all-or-nothing: when
// another writer changes one of them meanwhile, its transaction is refused
// and the request answers 409, but the transactions before it stay
// written. Sending the same request again completes it: the numbers
// already recorded are reported, not written twice.
//
// The answer's request_id is the new request's when any number was asked
// for now; when none was (every number already open), it is the request
// those numbers belong to (the first number's, if they belong to several),
// never an id no number has.
func (s *Service) RequestRelease(ctx context.Context, p auth.Principal, in RequestInput) (RequestOutput, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return RequestOutput{}, err
	}
	in.CustomerID = strings.TrimSpace(in.CustomerID)
	if err := requestCustomerID(in.CustomerID); err != nil {
		return RequestOutput{}, err
	}
	if n := utf8.RuneCountInString(in.Reason); n > MaxReasonLength {
		return RequestOutput{}, apperr.New(apperr.Invalid, "reason is %d characters; at most %d are allowed", n, MaxReasonLength)
	}
	nums, err := ParseNumbers(in.Numbers)
	if err != nil {
		return RequestOutput{}, err
	}
	if err := s.requireLink(ctx, providerID, in.CustomerID); err != nil {
		return RequestOutput{}, err
	}
	current, err := s.store.GetNumbers(ctx, in.CustomerID, nums)
	if err != nil {
		return RequestOutput{}, fmt.Errorf("read numbers: %w", err)
	}

	out := RequestOutput{RequestID: s.newID(), Numbers: make([]Result, len(nums))}
	var changes []domain.Change
	var changeAt []int
	var conflicts []Conflict
	for i, n := range nums {
		cur, found := current[n]
		switch {
		case found && cur.Status.Open() && cur.ProviderID == providerID:
			// Already asked for by this provider and not finished: report it.
			out.Numbers[i] = ok(cur)
			out.Numbers[i].RequestID = cur.RequestID
		case found && cur.Status.Open():
			conflicts = append(conflicts, Conflict{Number: n, Status: string(cur.Status), Reason: "the number already has an open release request"})
		case found && cur.Status == domain.Released:
			conflicts = append(conflicts, Conflict{Number: n, Status: string(cur.Status), Reason: "the number was already released"})
		default:
			next := domain.Number{
				CustomerID: in.CustomerID, Number: n, Status: domain.PendingApproval,
				ProviderID: providerID, RequestID: out.RequestID, Reason: in.Reason,
			}
			if found {
				next.Attempt = cur.Attempt
			}
			changes = append(changes, domain.Change{Prev: cur, Next: next, Actor: actor(p), Why: requestWhy(in.Reason)})
			changeAt = append(changeAt, i)
		}
	}
	if len(conflicts) > 0 {
		return RequestOutput{}, apperr.New(apperr.Conflict, "%d of the numbers cannot be requested now; nothing was changed", len(conflicts)).
			With("conflicts", conflicts)
	}
	written, err := s.store.ApplyRequest(ctx, domain.Request{ID: out.RequestID, ProviderID: providerID, CustomerID: in.CustomerID, Reason: in.Reason}, changes)
	var ce *domain.ConflictError
	if errors.As(err, &ce) {
		return RequestOutput{}, apperr.New(apperr.Conflict, "numbers %s changed while the request was recorded; send it again (with the same Idempotency-Key)", strings.Join(ce.Numbers, ", "))
	}
	if err != nil {
		return RequestOutput{}, fmt.Errorf("record release request: %w", err)
	}
	for j, w := range written {
		out.Numbers[changeAt[j]] = ok(w)
		out.Numbers[changeAt[j]].RequestID = w.RequestID
	}
	if len(written) == 0 && len(out.Numbers) > 0 {
		out.RequestID = out.Numbers[0].RequestID
	}
	s.log.InfoContext(ctx, "release requested", "provider_id", providerID, "customer_id", in.CustomerID,
		"request_id", out.RequestID, "numbers", len(nums), "new", len(written))
	return out, nil
}

// AuthorizeRequest makes RequestRelease's checks of who may ask for what,
// without doing anything: the caller is a provider, the body's customer_id
// is an identifier, and that customer is linked to the provider (unknown
// and unlinked customers both answer 404). The API makes it before it
// replays a stored answer to an Idempotency-Key.
func (s *Service) AuthorizeRequest(ctx context.Context, p auth.Principal, in RequestInput) error {
	providerID, err := principalProvider(p)
	if err != nil {
		return err
	}
	customerID := strings.TrimSpace(in.CustomerID)
	if err := requestCustomerID(customerID); err != nil {
		return err
	}
	return s.requireLink(ctx, providerID, customerID)
}

// requestCustomerID checks a request body's customer_id.
func requestCustomerID(id string) error {
	if id == "" {
		return apperr.New(apperr.Invalid, "customer_id is required")
	}
	return checkCustomerID(id)
}

// checkCustomerID refuses a customer_id (body or path) that is not an
// identifier, naming the field.
func checkCustomerID(id string) error {
	if err := ident.Check(id); err != nil {
		return apperr.New(apperr.Invalid, "customer_id is not a valid identifier: %v", err)
	}
	return nil
}

func requestWhy(reason string) string {
	if reason == "" {
		return "release requested by provider"
	}
	return "release requested by provider: " + reason
}

func (s *Service) requireLink(ctx context.Context, providerID, customerID string) error {
	linked, err := s.store.IsLinked(ctx, providerID, customerID)
	if err != nil {
		return fmt.Errorf("check link: %w", err)
	}
	if !linked {
		// Unknown and unlinked customers get the same answer: no existence leak.
		return apperr.New(apperr.NotFound, "provider %s is not linked to customer %q (or there is no such customer); ask the operator to link them", providerID, customerID)
	}
	return nil
}

// ProviderList lists the numbers a provider asked for at one linked
// customer, with the filters CustomerList takes: several statuses at once
// (status=A,B) and the beginning of the number (q).
func (s *Service) ProviderList(ctx context.Context, p auth.Principal, customerID string, q ListParams) (domain.Page, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return domain.Page{}, err
	}
	if err := checkCustomerID(customerID); err != nil {
		return domain.Page{}, err
	}
	if err := s.requireLink(ctx, providerID, customerID); err != nil {
		return domain.Page{}, err
	}
	return s.list(ctx, domain.ListQuery{CustomerID: customerID, ProviderID: providerID}, q)
}

// Cancel withdraws a provider's open request for one number.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, customerID, rawNumber string) (Result, error) {
	providerID, err := principalProvider(p)
	if err != nil {
		return Result{}, err
	}
	if err := checkCustomerID(customerID); err != nil {
		return Result{}, err
	}
	n, err := ParsePathNumber(rawNumber)
	if err != nil {
		return Result{}, err
	}
	if err := s.requireLink(ctx, providerID, customerID); err != nil {
		return Result{}, err
	}
	return s.cancelNumber(ctx, p, providerID, customerID, n, "")
}

// cancelNumber cancels one number of a provider's; with requestID set, only
// while the number is still in that request. Its errors are for the caller
// (apperr) or internal.
func (s *Service) cancelNumber(ctx context.Context, p auth.Principal, providerID, customerID, n, requestID string) (Result, error) {
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetNumber(ctx, customerID, n)
		if errors.Is(err, domain.ErrNotFound) || (err == nil && cur.ProviderID != providerID) {
			return Result{}, apperr.New(apperr.NotFound, "no release request for %s", n)
		}
		if err != nil {
			return Result{}, fmt.Errorf("read number: %w", err)
		}
		if requestID != "" && cur.RequestID != requestID {
			return Result{}, apperr.New(apperr.Conflict, "%s was asked for again, in request %s; cancel that request instead", n, cur.RequestID).
				With("status", cur.Status)
		}
		if cur.Status == domain.Cancelled {
			return ok(cur), nil
		}
		if err := cancellable(n, cur.Status); err != nil {
			return Result{}, err
		}
		if cur.RemovalStarted {
			return Result{}, apperr.New(apperr.Conflict, "%s is %s, and its removal was already sent to Zoom, so Zoom may have removed it; it cannot be cancelled (the customer approving it again settles it)", n, cur.Status).
				With("status", cur.Status)
		}
		next := transition(cur, domain.Cancelled)
		next.TaskToken, next.Message = "", ""
		written, err := s.store.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: actor(p), Why: "release request cancelled by provider"})
		if errors.Is(err, domain.ErrConflict) && attempt < conflictRetries {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("cancel %s: %w", n, err)
		}
		if cur.TaskToken != "" {
			// Wake the waiting workflow so it sees the cancellation and ends now.
			if err := s.workflow.Recheck(ctx, cur.TaskToken); err != nil {
				s.log.WarnContext(ctx, "wake cancelled workflow", "number", n, "err", err)
			}
		}
		s.log.InfoContext(ctx, "release cancelled", "provider_id", providerID, "customer_id", customerID, "number", n, "request_id", cur.RequestID)
		return ok(written), nil
	}
}

// cancellable refuses to cancel a number in a status that does not allow
// it (409, naming the status).
func cancellable(n string, st domain.Status) error {
	if !domain.CanTransition(st, domain.Cancelled) {
		return apperr.New(apperr.Conflict, "%s is %s; only a request that is pending approval, waiting for unassign or failed can be cancelled", n, st).
			With("status", st)
	}
	return nil
}
