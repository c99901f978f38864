package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"numberrelease/shared/notify"
)

// historyItem is a history item as the store writes it (store's
// dynamodbav tags), defined here so the test does not share the store's type.
type historyItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	CustomerID string    `dynamodbav:"customer_id"`
	Number     string    `dynamodbav:"number"`
	ProviderID string    `dynamodbav:"provider_id"`
	Version    int       `dynamodbav:"version"`
	At         time.Time `dynamodbav:"at"`
	Actor      string    `dynamodbav:"actor"`
	From       string    `dynamodbav:"from,omitempty"`
	To         string    `dynamodbav:"to"`
	Why        string    `dynamodbav:"why"`
	RequestID  string    `dynamodbav:"request_id,omitempty"`
}

var at0 = time.Date(2026, 11, 27, 0, 41, 7, 123456789, time.UTC)

func history(version int) historyItem {
	return historyItem{
		PK: "NUM#acme#+97239754571", SK: fmt.Sprintf("H#%08d", version),
		CustomerID: "acme", Number: "+97239754571", ProviderID: "pxc", Version: version,
		At: at0.Add(time.Duration(version) * time.Second), Actor: "customer:acme/alice",
		From: "RELEASING", To: "WAITING_FOR_UNASSIGN", Why: "assigned in Zoom", RequestID: "req-1",
	}
}

func seq(i int) string { return fmt.Sprintf("%021d", 1000+i) }

// record returns the stream record of writing item (INSERT unless told).
func record(t *testing.T, i int, eventName string, item any) events.DynamoDBEventRecord {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatalf("marshal %v: %v", item, err)
	}
	return events.DynamoDBEventRecord{
		EventID: fmt.Sprintf("event-%d", i), EventName: eventName, EventSource: "aws:dynamodb", AWSRegion: "us-east-1",
		Change: events.DynamoDBStreamRecord{
			NewImage: toEvent(av), SequenceNumber: seq(i), StreamViewType: "NEW_IMAGE",
		},
	}
}

// toEvent converts SDK attribute values to the Lambda event shape.
func toEvent(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = toEventValue(v)
	}
	return out
}

func toEventValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(toEvent(v.Value))
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = toEventValue(e)
		}
		return events.NewListAttribute(l)
	}
	return events.NewNullAttribute()
}

// historyEvent returns records 1..n, each the insert of history version i.
func historyEvent(t *testing.T, n int) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i := 1; i <= n; i++ {
		ev.Records = append(ev.Records, record(t, i, "INSERT", history(i)))
	}
	return ev
}

// fakeEventBridge records PutEvents calls. failTimes says how many times
// the entry of a history version fails (-1: always); callErrs how many
// calls fail as a whole first; truncate drops per-entry results.
type fakeEventBridge struct {
	mu        sync.Mutex
	calls     [][]ebtypes.PutEventsRequestEntry
	sent      map[int]int // version → times sent
	failTimes map[int]int
	callErrs  int
	truncate  bool
}

func (f *fakeEventBridge) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in.Entries)
	if f.sent == nil {
		f.sent = map[int]int{}
	}
	if f.callErrs > 0 {
		f.callErrs--
		return nil, errors.New("connection reset")
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		var d notify.Detail
		if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
			return nil, fmt.Errorf("fake: bad detail: %w", err)
		}
		f.sent[d.Version]++
		r := ebtypes.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("eb-%d-%d", d.Version, f.sent[d.Version]))}
		if n := f.failTimes[d.Version]; n < 0 || f.sent[d.Version] <= n {
			r = ebtypes.PutEventsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, r)
	}
	if f.truncate && out.FailedEntryCount > 0 {
		out.Entries = nil
	}
	return out, nil
}

func (f *fakeEventBridge) callSizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	sizes := make([]int, len(f.calls))
	for i, c := range f.calls {
		sizes[i] = len(c)
	}
	return sizes
}

func newPublisher(eb notify.EventBridge) *notify.Publisher {
	return &notify.Publisher{
		Client: eb, BusName: "nr-bus", Log: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return 0 },
	}
}

func TestHandleStreamBatchesOfTen(t *testing.T) {
	eb := &fakeEventBridge{}
	ev := historyEvent(t, 25)
	// Records that are not history inserts are ignored.
	state := map[string]any{"PK": "NUM#acme#+97239754571", "SK": "STATE", "status": "RELEASING", "version": 3}
	ev.Records = append(ev.Records,
		record(t, 100, "INSERT", state),
		record(t, 101, "MODIFY", state),
		record(t, 102, "MODIFY", history(1)),
		events.DynamoDBEventRecord{EventID: "event-103", EventName: "REMOVE", Change: events.DynamoDBStreamRecord{SequenceNumber: seq(103)}},
	)
	resp, err := newPublisher(eb).HandleStream(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("BatchItemFailures = %v; want none", resp.BatchItemFailures)
	}
	if got := eb.callSizes(); fmt.Sprint(got) != "[10 10 5]" {
		t.Fatalf("PutEvents entries per call = %v; want [10 10 5]", got)
	}
	version := 0
	for _, call := range eb.calls {
		for _, e := range call {
			version++
			h := history(version)
			if aws.ToString(e.Source) != notify.Source || aws.ToString(e.DetailType) != notify.DetailType ||
				aws.ToString(e.EventBusName) != "nr-bus" || len(e.Resources) != 0 || e.Time == nil || !e.Time.Equal(h.At) {
				t.Fatalf("entry %d = source %q, detail-type %q, bus %q, resources %v, time %v", version,
					aws.ToString(e.Source), aws.ToString(e.DetailType), aws.ToString(e.EventBusName), e.Resources, e.Time)
			}
			want := fmt.Sprintf(`{"customer_id":"acme","number":"+97239754571","provider_id":"pxc","version":%d,"at":%q,`+
				`"actor":"customer:acme/alice","from":"RELEASING","to":"WAITING_FOR_UNASSIGN","why":"assigned in Zoom","request_id":"req-1"}`,
				version, h.At.Format(time.RFC3339Nano))
			if got := aws.ToString(e.Detail); got != want {
				t.Fatalf("detail %d =\n%s\nwant\n%s", version, got, want)
			}
		}
	}
	if version != 25 {
		t.Fatalf("published %d entries; want 25", version)
	}
}

func TestHandleStreamRetries(t *testing.T) {
	tests := []struct {
		name         string
		eb           *fakeEventBridge
		wantFailures []string // sequence numbers
		wantSent     map[int]int
	}{
		{
			name:     "a failed entry is retried and then succeeds",
			eb:       &fakeEventBridge{failTimes: map[int]int{7: 2}},
			wantSent: map[int]int{7: 3, 1: 1, 12: 1},
		},
		{
			name:         "a permanently failing entry is reported by its record",
			eb:           &fakeEventBridge{failTimes: map[int]int{7: -1}},
			wantFailures: []string{seq(7)},
			wantSent:     map[int]int{7: 1 + notify.DefaultRetries, 6: 1, 8: 1},
		},
		{
			name:         "two failing entries in different calls",
			eb:           &fakeEventBridge{failTimes: map[int]int{3: -1, 11: -1}},
			wantFailures: []string{seq(3), seq(11)},
			wantSent:     map[int]int{3: 4, 11: 4, 12: 1},
		},
		{
			name:     "a failed call is retried",
			eb:       &fakeEventBridge{callErrs: 2},
			wantSent: map[int]int{1: 1, 12: 1}, // failed calls never reach the fake's count
		},
		{
			name:         "a call that keeps failing reports every record",
			eb:           &fakeEventBridge{callErrs: 1000},
			wantFailures: []string{seq(1), seq(2), seq(3), seq(4), seq(5), seq(6), seq(7), seq(8), seq(9), seq(10), seq(11), seq(12)},
			wantSent:     map[int]int{1: 0},
		},
		{
			name:     "failures without per-entry results resend the whole call",
			eb:       &fakeEventBridge{failTimes: map[int]int{2: 1}, truncate: true},
			wantSent: map[int]int{2: 2, 1: 2, 10: 2, 11: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := newPublisher(tt.eb).HandleStream(context.Background(), historyEvent(t, 12))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantFailures) {
				t.Fatalf("BatchItemFailures = %v; want %v", got, tt.wantFailures)
			}
			for v, n := range tt.wantSent {
				if tt.eb.sent[v] != n {
					t.Fatalf("version %d sent %d times; want %d (all: %v)", v, tt.eb.sent[v], n, tt.eb.sent)
				}
			}
			for i, c := range tt.eb.calls {
				if len(c) > notify.MaxEntriesPerCall {
					t.Fatalf("call %d has %d entries", i, len(c))
				}
			}
		})
	}
}

func TestHandleStreamRespectsTheSizeLimit(t *testing.T) {
	eb := &fakeEventBridge{}
	var ev events.DynamoDBEvent
	for i := 1; i <= 5; i++ {
		h := history(i)
		h.Why = strings.Repeat("x", 100<<10)
		ev.Records = append(ev.Records, record(t, i, "INSERT", h))
	}
	huge := history(6)
	huge.Why = strings.Repeat("y", notify.MaxRequestBytes)
	ev.Records = append(ev.Records, record(t, 6, "INSERT", huge))

	resp, err := newPublisher(eb).HandleStream(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := eb.callSizes(); fmt.Sprint(got) != "[2 2 1]" {
		t.Fatalf("PutEvents entries per call = %v; want [2 2 1]", got)
	}
	for i, call := range eb.calls {
		size := 0
		for _, e := range call {
			size += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail)) + 14
		}
		if size > notify.MaxRequestBytes {
			t.Fatalf("call %d carries %d bytes; limit %d", i, size, notify.MaxRequestBytes)
		}
	}
	// An event that can never fit is reported, not sent and not lost silently.
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != seq(6) {
		t.Fatalf("BatchItemFailures = %v; want the oversized record %s", resp.BatchItemFailures, seq(6))
	}
	if eb.sent[6] != 0 {
		t.Fatal("the oversized event was sent")
	}
}

func TestHandleStreamReportsUnreadableHistory(t *testing.T) {
	eb := &fakeEventBridge{}
	bad := map[string]any{"PK": "NUM#acme#+97239754571", "SK": "H#00000002", "customer_id": "acme", "version": "two"}
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record(t, 1, "INSERT", history(1)),
		record(t, 2, "INSERT", bad),
		record(t, 3, "INSERT", history(3)),
	}}
	resp, err := newPublisher(eb).HandleStream(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != seq(2) {
		t.Fatalf("BatchItemFailures = %v; want %s", resp.BatchItemFailures, seq(2))
	}
	if eb.sent[1] != 1 || eb.sent[3] != 1 {
		t.Fatalf("sent = %v; want versions 1 and 3 once", eb.sent)
	}
}

func TestHandleStreamStopsRetryingWhenContextEnds(t *testing.T) {
	eb := &fakeEventBridge{failTimes: map[int]int{1: -1}}
	p := newPublisher(eb)
	ctx, cancel := context.WithCancel(context.Background())
	p.Backoff = func(int) time.Duration { cancel(); return time.Hour }
	resp, err := p.HandleStream(ctx, historyEvent(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || eb.sent[1] != 1 {
		t.Fatalf("BatchItemFailures = %v, sent %d; want the record reported after one try", resp.BatchItemFailures, eb.sent[1])
	}
}

func TestDetailFromRecord(t *testing.T) {
	first := history(1)
	first.From, first.RequestID = "", ""
	tests := []struct {
		name    string
		rec     events.DynamoDBEventRecord
		want    string // detail JSON; "" means ErrNotHistory
		wantErr bool
	}{
		{
			name: "first request of a number omits from and request_id",
			rec:  record(t, 1, "INSERT", first),
			want: `{"customer_id":"acme","number":"+97239754571","provider_id":"pxc","version":1,"at":"2026-11-27T00:41:08.123456789Z",` +
				`"actor":"customer:acme/alice","to":"WAITING_FOR_UNASSIGN","why":"assigned in Zoom"}`,
		},
		{name: "state item", rec: record(t, 2, "INSERT", map[string]any{"PK": "NUM#acme#+97239754571", "SK": "STATE"})},
		{name: "modify of a history item", rec: record(t, 3, "MODIFY", history(3))},
		{name: "no SK", rec: record(t, 4, "INSERT", map[string]any{"PK": "X"})},
		{name: "history item without number", rec: record(t, 5, "INSERT", map[string]any{"PK": "NUM#acme#x", "SK": "H#00000001", "customer_id": "acme", "version": 1, "to": "RELEASED"}), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := notify.DetailFromRecord(tt.rec)
			switch {
			case tt.wantErr:
				if err == nil || errors.Is(err, notify.ErrNotHistory) {
					t.Fatalf("err = %v; want a decoding error", err)
				}
				return
			case tt.want == "":
				if !errors.Is(err, notify.ErrNotHistory) {
					t.Fatalf("err = %v; want ErrNotHistory", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			b, _ := json.Marshal(d)
			if string(b) != tt.want {
				t.Fatalf("detail =\n%s\nwant\n%s", b, tt.want)
			}
		})
	}
}
