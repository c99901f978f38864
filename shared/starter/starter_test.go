package starter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"numberrelease/shared/workflow"
)

// fakeWorkflow records starts and answers each with err(release).
type fakeWorkflow struct {
	mu     sync.Mutex
	starts []workflow.Release
	err    func(workflow.Release) error
}

func (f *fakeWorkflow) Start(_ context.Context, r workflow.Release) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts = append(f.starts, r)
	if f.err != nil {
		return f.err(r)
	}
	return nil
}

// historyRecord is the stream record of a history insert, as the store
// writes it (only the attributes the starter reads, and the keys).
func historyRecord(seq int, number, from, to string, attempt int) events.DynamoDBEventRecord {
	img := map[string]events.DynamoDBAttributeValue{
		"PK":          events.NewStringAttribute("NUM#acme#" + number),
		"SK":          events.NewStringAttribute(fmt.Sprintf("H#%08d", seq)),
		"customer_id": events.NewStringAttribute("acme"),
		"number":      events.NewStringAttribute(number),
		"version":     events.NewNumberAttribute(strconv.Itoa(seq)),
		"attempt":     events.NewNumberAttribute(strconv.Itoa(attempt)),
		"to":          events.NewStringAttribute(to),
	}
	if from != "" {
		img["from"] = events.NewStringAttribute(from)
	}
	return events.DynamoDBEventRecord{EventName: "INSERT", Change: events.DynamoDBStreamRecord{
		SequenceNumber: fmt.Sprintf("%021d", seq), NewImage: img,
	}}
}

func TestHandleStream(t *testing.T) {
	stateItem := events.DynamoDBEventRecord{EventName: "MODIFY", Change: events.DynamoDBStreamRecord{
		SequenceNumber: "9", NewImage: map[string]events.DynamoDBAttributeValue{"SK": events.NewStringAttribute("STATE")}}}
	unreadable := historyRecord(8, "+14155550008", "PENDING_APPROVAL", "RELEASING", 1)
	delete(unreadable.Change.NewImage, "number")
	tests := []struct {
		name       string
		records    []events.DynamoDBEventRecord
		err        func(workflow.Release) error
		wantStarts []string
		wantFailed []string
	}{
		{"an approval starts its attempt", []events.DynamoDBEventRecord{historyRecord(2, "+14155550001", "PENDING_APPROVAL", "RELEASING", 1)},
			nil, []string{"acme-14155550001-1"}, nil},
		{"approving a failed number starts the new attempt", []events.DynamoDBEventRecord{historyRecord(4, "+14155550002", "FAILED", "RELEASING", 2)},
			nil, []string{"acme-14155550002-2"}, nil},
		{"other changes start nothing", []events.DynamoDBEventRecord{
			historyRecord(1, "+14155550003", "", "PENDING_APPROVAL", 0),
			historyRecord(4, "+14155550003", "WAITING_FOR_UNASSIGN", "RELEASING", 1), // the release claiming it: same attempt
			historyRecord(5, "+14155550003", "RELEASING", "RELEASED", 1),
			stateItem,
		}, nil, nil, nil},
		{"an execution that already ran is not a failure", []events.DynamoDBEventRecord{historyRecord(2, "+14155550004", "PENDING_APPROVAL", "RELEASING", 1)},
			func(workflow.Release) error { return fmt.Errorf("start: %w", workflow.ErrEnded) }, []string{"acme-14155550004-1"}, nil},
		{"a failed start is reported for a retry, the others go on", []events.DynamoDBEventRecord{
			historyRecord(2, "+14155550005", "PENDING_APPROVAL", "RELEASING", 1),
			historyRecord(3, "+14155550006", "PENDING_APPROVAL", "RELEASING", 1),
		}, func(r workflow.Release) error {
			if r.Number == "+14155550005" {
				return errors.New("states unavailable")
			}
			return nil
		}, []string{"acme-14155550005-1", "acme-14155550006-1"}, []string{fmt.Sprintf("%021d", 2)}},
		{"an unreadable history item is reported", []events.DynamoDBEventRecord{unreadable}, nil, nil, []string{fmt.Sprintf("%021d", 8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := &fakeWorkflow{err: tt.err}
			s := &Starter{Workflow: wf, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			resp, err := s.HandleStream(context.Background(), events.DynamoDBEvent{Records: tt.records})
			if err != nil {
				t.Fatal(err)
			}
			var starts, failed []string
			for _, r := range wf.starts {
				starts = append(starts, r.ExecutionName())
			}
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			if fmt.Sprint(slices.Sorted(slices.Values(starts))) != fmt.Sprint(tt.wantStarts) || fmt.Sprint(failed) != fmt.Sprint(tt.wantFailed) {
				t.Fatalf("starts %v, failed %v; want %v, %v", starts, failed, tt.wantStarts, tt.wantFailed)
			}
		})
	}
}

// fakePacer hands out starts a second apart from t0, per customer, or
// fails.
type fakePacer struct {
	t0    time.Time
	err   error
	asked map[string]int
	next  map[string]int
}

func (f *fakePacer) Reserve(_ context.Context, customerID string, n int) ([]time.Time, error) {
	if f.asked == nil {
		f.asked, f.next = map[string]int{}, map[string]int{}
	}
	f.asked[customerID] += n
	if f.err != nil {
		return nil, f.err
	}
	var out []time.Time
	for range n {
		out = append(out, f.t0.Add(time.Duration(f.next[customerID])*time.Second))
		f.next[customerID]++
	}
	return out, nil
}

// TestPacing: each customer's approvals in a batch take consecutive starts
// from its own queue, in the records' order; when pacing fails they start
// at once rather than not at all.
func TestPacing(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	record := func(seq int, customer, number string) events.DynamoDBEventRecord {
		r := historyRecord(seq, number, "PENDING_APPROVAL", "RELEASING", 1)
		r.Change.NewImage["customer_id"] = events.NewStringAttribute(customer)
		return r
	}
	records := []events.DynamoDBEventRecord{
		record(1, "acme", "+14155550001"),
		record(2, "globex", "+14155550002"),
		record(3, "acme", "+14155550003"),
		historyRecord(4, "+14155550004", "RELEASING", "RELEASED", 1), // not an approval: no start taken
		record(5, "acme", "+14155550005"),
	}
	tests := []struct {
		name  string
		err   error
		want  map[string]string // number -> NotBefore
		asked map[string]int
	}{
		{"paced per customer in order", nil, map[string]string{
			"+14155550001": "2026-12-02T04:00:00Z", "+14155550003": "2026-12-02T04:00:01Z", "+14155550005": "2026-12-02T04:00:02Z",
			"+14155550002": "2026-12-02T04:00:00Z",
		}, map[string]int{"acme": 3, "globex": 1}},
		{"pacing unavailable starts at once", errors.New("table throttled"), map[string]string{
			"+14155550001": "", "+14155550003": "", "+14155550005": "", "+14155550002": "",
		}, map[string]int{"acme": 3, "globex": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := &fakeWorkflow{}
			p := &fakePacer{t0: t0, err: tt.err}
			s := &Starter{Workflow: wf, Pacer: p, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			resp, err := s.HandleStream(context.Background(), events.DynamoDBEvent{Records: records})
			if err != nil || len(resp.BatchItemFailures) > 0 {
				t.Fatalf("HandleStream: %v, failures %v", err, resp.BatchItemFailures)
			}
			got := map[string]string{}
			for _, r := range wf.starts {
				got[r.Number] = r.NotBefore
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("starts %v, want %v", got, tt.want)
			}
			if fmt.Sprint(p.asked) != fmt.Sprint(tt.asked) {
				t.Errorf("reserved %v, want %v", p.asked, tt.asked)
			}
		})
	}
}
