// Package notify tells providers about every status change of a number by
// publishing it on Amazon EventBridge, so a provider's systems can subscribe
// with a rule instead of polling the API.
//
// Every status change is a history item written to the table in the same
// transaction as the change itself (domain.Change); the table's DynamoDB
// stream (NEW_IMAGE) carries it to Publisher.HandleStream, which publishes
// one event per history item. On AWS the stream is read by a Lambda event
// source mapping (functions/notify); locally and in tests by the harness's
// stream poller (shared/harness/streampoll).
//
// # Event schema
//
// Each event is published on the configured bus with
//
//	source       "number-release"                 (Source)
//	detail-type  "Number Release Status Changed"  (DetailType)
//	time         the change's time (detail.at, to the second)
//	resources    []
//
// and a detail object (Detail):
//
//	{
//	  "customer_id": "acme",                  // the customer (tenant) holding the number
//	  "number":      "+97239754569",          // E.164
//	  "provider_id": "pxc",                   // the provider that asked for the release
//	  "version":     4,                       // the change's place in the number's history: 1, 2, 3, ...
//	                                          //   without gaps (a gap means an event not yet received)
//	  "attempt":     1,                       // the customer's approval attempt (absent before the first)
//	  "at":          "2026-11-27T00:41:07.123456789Z", // RFC 3339, when the change was written
//	  "actor":       "customer:acme/alice",   // who made it: "customer:<tenant>/<user>", "provider:<id>", "system", ...
//	  "from":        "WAITING_FOR_UNASSIGN",  // previous status; absent for the first request of a number
//	  "to":          "RELEASING",             // new status (domain.Status): PENDING_APPROVAL, RELEASING,
//	                                          //   WAITING_FOR_UNASSIGN, RELEASED, REJECTED, CANCELLED, FAILED, EXPIRED
//	  "why":         "unassigned in Zoom",    // human-readable reason
//	  "request_id":  "3f0c..."                // the provider's release request; absent when unknown
//	}
//
// A provider subscribes with a rule such as
//
//	{"source": ["number-release"], "detail-type": ["Number Release Status Changed"],
//	 "detail": {"provider_id": ["pxc"], "to": ["RELEASED", "FAILED"]}}
//
// Delivery is at least once and unordered: a change can be published more
// than once (stream and PutEvents retries) and events of one number can
// arrive out of order. (customer_id, number, version) identifies a change;
// consumers deduplicate by it and order by version.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"numberrelease/shared/pause"
	"numberrelease/shared/store"
)

// Source and DetailType of every event this package publishes.
const (
	Source     = "number-release"
	DetailType = "Number Release Status Changed"
)

// Pattern is the EventBridge event pattern of every event this package
// publishes: the bus's archive and its catch-all rule use it (infra/stack,
// and the local system the same way).
func Pattern() map[string]any {
	return map[string]any{"source": []string{Source}, "detail-type": []string{DetailType}}
}

// ProviderPattern matches the events of one provider (detail.provider_id):
// the rule that forwards a carrier's events to its own bus.
func ProviderPattern(providerID string) map[string]any {
	p := Pattern()
	p["detail"] = map[string]any{"provider_id": []string{providerID}}
	return p
}

// EventBridge's PutEvents limits, and the retries of failed entries.
const (
	MaxEntriesPerCall = 10
	MaxRequestBytes   = 256 * 1024
	// DefaultRetries is how often an entry that failed is sent again.
	DefaultRetries = 3
	// timeEntryBytes is what an entry's Time counts toward MaxRequestBytes.
	timeEntryBytes = 14
)

// Detail is the detail of a status-change event (see the package comment).
type Detail struct {
	CustomerID string    `json:"customer_id"`
	Number     string    `json:"number"`
	ProviderID string    `json:"provider_id"`
	Version    int       `json:"version"`
	Attempt    int       `json:"attempt,omitempty"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	From       string    `json:"from,omitempty"`
	To         string    `json:"to"`
	Why        string    `json:"why"`
	RequestID  string    `json:"request_id,omitempty"`
}

// EventBridge is the part of the EventBridge API the Publisher uses.
type EventBridge interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ EventBridge = (*eventbridge.Client)(nil)

// Publisher publishes the history items of a table's stream on one bus.
type Publisher struct {
	Client  EventBridge
	BusName string
	Log     *slog.Logger
	// Retries is how often entries that failed are sent again (zero means
	// DefaultRetries; negative means never).
	Retries int
	// Backoff is the pause before retry n (1-based); nil means exponential
	// from 100 ms with full jitter.
	Backoff func(n int) time.Duration
}

// ErrNotHistory is returned by DetailFromRecord for records that are not the
// insert of a history item.
var ErrNotHistory = store.ErrNotHistory

// DetailFromRecord converts a stream record to the detail of its event. It
// returns ErrNotHistory (test with errors.Is) for records that are not the
// INSERT of a history item, and another error for a history item that
// cannot be read.
func DetailFromRecord(rec events.DynamoDBEventRecord) (Detail, error) {
	h, err := store.HistoryFromRecord(rec)
	if err != nil {
		return Detail{}, err
	}
	return Detail{
		CustomerID: h.CustomerID, Number: h.Number, ProviderID: h.ProviderID, Version: h.Version, Attempt: h.Attempt,
		At: h.At, Actor: h.Actor, From: string(h.From), To: string(h.To), Why: h.Why, RequestID: h.RequestID,
	}, nil
}

// pending is one entry to publish and the stream record it came from.
type pending struct {
	seq, eventID string
	entry        ebtypes.PutEventsRequestEntry
	size         int
	lastErr      string
}

// HandleStream publishes the history INSERTs among the records (others are
// ignored) and returns the events.DynamoDBEventResponse with
// BatchItemFailures naming the records that could not be published, so that
// Lambda retries only from there (the event source mapping must enable
// ReportBatchItemFailures). An item identifier is the record's
// SequenceNumber, which is what Lambda expects for DynamoDB streams.
//
// PutEvents takes at most 10 entries and 256 KiB per call; entries that fail
// (the call fails, or FailedEntryCount / a per-entry ErrorCode) are sent
// again up to Retries times with backoff, then reported. A history item that
// can never be published (unreadable, or one event over 256 KiB) is logged
// as an error and reported too, so that after the event source mapping's
// retries it lands in its on-failure destination rather than vanishing.
//
// Lambda resumes a shard from the lowest failed sequence number, so records
// after a failed one are delivered, and published, again: events are at
// least once. The returned error is always nil: failures are per record.
func (p *Publisher) HandleStream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	log := p.log()
	var todo []*pending
	var failed []events.DynamoDBBatchItemFailure
	for _, rec := range ev.Records {
		d, err := DetailFromRecord(rec)
		if errors.Is(err, ErrNotHistory) {
			continue
		}
		var pe *pending
		if err == nil {
			pe, err = p.entry(d)
		}
		if err != nil {
			// Retrying will not help; reporting it sends it, after the event
			// source mapping's retries, to its on-failure destination.
			log.ErrorContext(ctx, "history item cannot be published; reported as failed", "event_id", rec.EventID,
				"sequence_number", rec.Change.SequenceNumber, "err", err)
			failed = append(failed, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			continue
		}
		pe.seq, pe.eventID = rec.Change.SequenceNumber, rec.EventID
		todo = append(todo, pe)
	}

	unpublished := p.publish(ctx, todo)
	for _, f := range unpublished {
		log.ErrorContext(ctx, "status change not published; reported as failed", "event_id", f.eventID,
			"sequence_number", f.seq, "err", f.lastErr)
		failed = append(failed, events.DynamoDBBatchItemFailure{ItemIdentifier: f.seq})
	}
	log.InfoContext(ctx, "stream batch handled", "records", len(ev.Records), "events", len(todo),
		"published", len(todo)-len(unpublished), "failed", len(failed))
	if failed == nil {
		failed = []events.DynamoDBBatchItemFailure{}
	}
	return events.DynamoDBEventResponse{BatchItemFailures: failed}, nil
}

// entry builds the PutEvents entry of one change and its size as EventBridge
// counts it.
func (p *Publisher) entry(d Detail) (*pending, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode detail: %w", err)
	}
	e := ebtypes.PutEventsRequestEntry{
		Source:     aws.String(Source),
		DetailType: aws.String(DetailType),
		Detail:     aws.String(string(b)),
		Time:       aws.Time(d.At),
	}
	if p.BusName != "" {
		e.EventBusName = aws.String(p.BusName)
	}
	size := len(Source) + len(DetailType) + len(b) + timeEntryBytes
	if size > MaxRequestBytes {
		return nil, fmt.Errorf("event of %d bytes is over EventBridge's %d", size, MaxRequestBytes)
	}
	return &pending{entry: e, size: size}, nil
}

// publish sends every entry, retrying failed ones, and returns those that
// still failed, in input order.
func (p *Publisher) publish(ctx context.Context, todo []*pending) []*pending {
	retries := p.Retries
	if retries == 0 {
		retries = DefaultRetries
	}
	for n := 0; len(todo) > 0; n++ {
		todo = p.putAll(ctx, todo)
		if len(todo) == 0 || n >= retries {
			break
		}
		p.log().WarnContext(ctx, "PutEvents entries failed; retrying", "failed", len(todo), "retry", n+1,
			"error_code", todo[0].lastErr)
		if err := pause.For(ctx, p.backoff(n+1)); err != nil {
			break
		}
	}
	return todo
}

// putAll makes one pass over the entries in calls within EventBridge's
// limits and returns the entries that failed.
func (p *Publisher) putAll(ctx context.Context, todo []*pending) []*pending {
	var failed []*pending
	for len(todo) > 0 {
		n, bytes := 0, 0
		for n < len(todo) && n < MaxEntriesPerCall && bytes+todo[n].size <= MaxRequestBytes {
			bytes += todo[n].size
			n++
		}
		chunk := todo[:n]
		todo = todo[n:]
		failed = append(failed, p.put(ctx, chunk)...)
	}
	return failed
}

// put makes one PutEvents call and returns the entries that failed.
func (p *Publisher) put(ctx context.Context, chunk []*pending) []*pending {
	in := &eventbridge.PutEventsInput{Entries: make([]ebtypes.PutEventsRequestEntry, len(chunk))}
	for i, c := range chunk {
		in.Entries[i] = c.entry
	}
	out, err := p.Client.PutEvents(ctx, in)
	if err != nil {
		for _, c := range chunk {
			c.lastErr = fmt.Sprintf("put events on bus %q: %v", p.BusName, err)
		}
		return chunk
	}
	if out.FailedEntryCount == 0 {
		return nil
	}
	if len(out.Entries) != len(chunk) {
		// Cannot tell which failed: send them all again (at least once).
		for _, c := range chunk {
			c.lastErr = fmt.Sprintf("%d of %d entries failed; response has %d results", out.FailedEntryCount, len(chunk), len(out.Entries))
		}
		return chunk
	}
	var failed []*pending
	for i, r := range out.Entries {
		if r.ErrorCode != nil && *r.ErrorCode != "" {
			chunk[i].lastErr = *r.ErrorCode + ": " + aws.ToString(r.ErrorMessage)
			failed = append(failed, chunk[i])
		}
	}
	return failed
}

func (p *Publisher) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

func (p *Publisher) backoff(n int) time.Duration {
	if p.Backoff != nil {
		return p.Backoff(n)
	}
	ceiling := 100 * time.Millisecond << min(n-1, 6)
	return rand.N(ceiling) + time.Millisecond
}
