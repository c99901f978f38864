// Package starter starts the release workflow of every approval. It reads
// the table's stream (as Lambda's event source mapping delivers it): each
// approval is a history insert RELEASING from PENDING_APPROVAL or FAILED,
// written in the same transaction as the approval itself, so every
// approval that was recorded gets its execution started, however the API
// call that recorded it ended (answered, cut off, or its process killed).
//
// Starts are paced: each customer's approvals take consecutive start times
// from its queue (shared/pacing), and each execution waits for its own
// before it calls Zoom. A pacing failure starts them at once instead, which
// the rate limiter still keeps within Zoom's limits.
//
// A start is idempotent by the execution's name (customer, number,
// attempt): stream records delivered twice, and the customer approving a
// RELEASING number again, start nothing new. The reconciler
// (shared/reconcile) remains the backstop for a start that keeps failing.
package starter

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"numberrelease/shared/domain"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

// parallelism bounds the starts in flight for one batch of records.
const parallelism = 8

// Pacer hands out start times from a customer's queue (*pacing.Pacer).
type Pacer interface {
	Reserve(ctx context.Context, customerID string, n int) ([]time.Time, error)
}

// Starter starts the workflows of the approvals in stream records.
type Starter struct {
	Workflow workflow.Starter
	// Pacer, when set, paces each customer's starts.
	Pacer Pacer
	Log   *slog.Logger
}

// Approval reports whether a status change begins an approval attempt: the
// customer approved a number that awaited approval or had failed. (A number
// moving back to RELEASING from WAITING_FOR_UNASSIGN is the same attempt.)
func Approval(h domain.HistoryEntry) bool {
	return h.To == domain.Releasing && (h.From == domain.PendingApproval || h.From == domain.Failed)
}

// HandleStream starts the execution of every approval among the records
// (others are ignored) and returns BatchItemFailures naming the records
// whose start failed, so that Lambda retries from there (the event source
// mapping must enable ReportBatchItemFailures). An execution that has
// already ended is not a failure: its attempt has run. The returned error
// is always nil: failures are per record.
func (s *Starter) HandleStream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	type job struct {
		seq string
		rel workflow.Release
	}
	var jobs []job
	failures := []events.DynamoDBBatchItemFailure{}
	for _, rec := range ev.Records {
		h, err := store.HistoryFromRecord(rec)
		if errors.Is(err, store.ErrNotHistory) {
			continue
		}
		if err != nil {
			// Unreadable: retrying cannot help, but reporting it keeps it
			// from vanishing (after the retries it lands in the on-failure
			// destination, and the reconciler starts the release).
			s.Log.ErrorContext(ctx, "history record unreadable", "sequence_number", rec.Change.SequenceNumber, "err", err)
			failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			continue
		}
		if Approval(h) {
			jobs = append(jobs, job{seq: rec.Change.SequenceNumber, rel: workflow.Release{CustomerID: h.CustomerID, Number: h.Number, Attempt: h.Attempt}})
		}
	}
	rels := make([]*workflow.Release, len(jobs))
	for i := range jobs {
		rels[i] = &jobs[i].rel
	}
	s.pace(ctx, rels)
	failed := make([]bool, len(jobs))
	sem := make(chan struct{}, parallelism)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := s.Workflow.Start(ctx, j.rel)
			switch {
			case err == nil:
				s.Log.InfoContext(ctx, "release workflow started", "customer_id", j.rel.CustomerID, "number", j.rel.Number, "execution", j.rel.ExecutionName(), "not_before", j.rel.NotBefore)
			case errors.Is(err, workflow.ErrEnded):
				s.Log.InfoContext(ctx, "release workflow already ran", "customer_id", j.rel.CustomerID, "number", j.rel.Number, "execution", j.rel.ExecutionName())
			default:
				failed[i] = true
				s.Log.ErrorContext(ctx, "start release workflow", "customer_id", j.rel.CustomerID, "number", j.rel.Number, "execution", j.rel.ExecutionName(), "err", err)
			}
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if failed[i] {
			failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: j.seq})
		}
	}
	s.Log.InfoContext(ctx, "stream batch handled", "records", len(ev.Records), "approvals", len(jobs), "failed", len(failures))
	return events.DynamoDBEventResponse{BatchItemFailures: failures}, nil
}

// pace gives each release its start time (NotBefore), one reservation per
// customer in the records' order. When a reservation fails, that customer's
// releases start at once.
func (s *Starter) pace(ctx context.Context, rels []*workflow.Release) {
	if s.Pacer == nil {
		return
	}
	var customers []string
	byCustomer := map[string][]*workflow.Release{}
	for _, r := range rels {
		if _, ok := byCustomer[r.CustomerID]; !ok {
			customers = append(customers, r.CustomerID)
		}
		byCustomer[r.CustomerID] = append(byCustomer[r.CustomerID], r)
	}
	for _, c := range customers {
		rs := byCustomer[c]
		starts, err := s.Pacer.Reserve(ctx, c, len(rs))
		if err != nil {
			s.Log.WarnContext(ctx, "pacing unavailable: starting at once", "customer_id", c, "releases", len(rs), "err", err)
			continue
		}
		for i, r := range rs {
			r.NotBefore = workflow.NotBefore(starts[i])
		}
	}
}
