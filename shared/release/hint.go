package release

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"numberrelease/shared/domain"
	"numberrelease/shared/workflow"
)

// HintStore is what acting on a hint needs from storage.
type HintStore interface {
	CustomerByZoomAccount(ctx context.Context, accountID string) (domain.Customer, error)
	GetNumber(ctx context.Context, customerID, e164 string) (domain.Number, error)
	ListNumbers(ctx context.Context, q domain.ListQuery) (domain.Page, error)
}

// Hints acts on Zoom's "number unassigned" notifications: the webhook's
// one use case, apart from the API's.
type Hints struct {
	store    HintStore
	workflow workflow.Rechecker
	log      *slog.Logger
}

// NewHints returns the use case of the webhook.
func NewHints(s HintStore, wf workflow.Rechecker, log *slog.Logger) *Hints {
	return &Hints{store: s, workflow: wf, log: log}
}

// Unassigned acts on a "number unassigned in Zoom" notification. It is only a
// hint: if the number waits for its unassignment, the waiting workflow is
// woken and re-checks Zoom before it releases anything. Unknown accounts and
// numbers, and numbers not waiting, are ignored, so a redelivered or forged
// hint is harmless.
func (s *Hints) Unassigned(ctx context.Context, zoomAccountID, e164 string) error {
	c, err := s.store.CustomerByZoomAccount(ctx, zoomAccountID)
	if errors.Is(err, domain.ErrNotFound) {
		s.log.InfoContext(ctx, "unassign hint for unknown zoom account ignored", "zoom_account_id", zoomAccountID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("find customer of zoom account: %w", err)
	}
	n, err := s.store.GetNumber(ctx, c.ID, e164)
	if errors.Is(err, domain.ErrNotFound) {
		s.log.InfoContext(ctx, "unassign hint for unknown number ignored", "customer_id", c.ID, "number", e164)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read number: %w", err)
	}
	if n.Status != domain.WaitingForUnassign || n.TaskToken == "" {
		s.log.InfoContext(ctx, "unassign hint for a number not waiting ignored", "customer_id", c.ID, "number", e164, "status", n.Status)
		return nil
	}
	if err := s.workflow.Recheck(ctx, n.TaskToken); err != nil {
		return fmt.Errorf("wake workflow of %s: %w", e164, err)
	}
	s.log.InfoContext(ctx, "unassign hint woke the workflow", "customer_id", c.ID, "number", e164, "execution", n.Execution)
	return nil
}

// WakeNotConnected wakes the customer's releases that wait for its Zoom
// connection (RELEASING with domain.NotConnectedMessage and a task token),
// right after an admin connected: each checks Zoom again at once instead of
// at the end of its wait. It reports how many it woke; one it could not
// wake does not stop the others (it ends its wait by the timeout and checks
// again then), and the errors are returned together.
func (s *Hints) WakeNotConnected(ctx context.Context, customerID string) (int, error) {
	woken := 0
	var errs []error
	q := domain.ListQuery{CustomerID: customerID, Status: domain.Releasing, Limit: domain.MaxPageSize}
	for {
		page, err := s.store.ListNumbers(ctx, q)
		if err != nil {
			errs = append(errs, fmt.Errorf("list releases waiting for the zoom connection: %w", err))
			return woken, errors.Join(errs...)
		}
		for _, n := range page.Items {
			if n.Message != domain.NotConnectedMessage || n.TaskToken == "" {
				continue
			}
			if err := s.workflow.Recheck(ctx, n.TaskToken); err != nil {
				errs = append(errs, fmt.Errorf("wake workflow of %s: %w", n.Number, err))
				continue
			}
			woken++
		}
		if page.NextCursor == "" {
			return woken, errors.Join(errs...)
		}
		q.Cursor = page.NextCursor
	}
}
