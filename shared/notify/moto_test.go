package notify_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/streampoll"
	"numberrelease/shared/notify"
	"numberrelease/shared/store"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

const (
	pollInterval = 50 * time.Millisecond
	waitFor      = 20 * time.Second
)

// recordingEventBridge passes calls to the real client and counts entries.
type recordingEventBridge struct {
	notify.EventBridge
	mu      sync.Mutex
	entries int
}

func (r *recordingEventBridge) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	r.mu.Lock()
	r.entries += len(in.Entries)
	r.mu.Unlock()
	return r.EventBridge.PutEvents(ctx, in, opts...)
}

func (r *recordingEventBridge) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries
}

// rig is a table with a stream, a bus whose rule (of the given pattern)
// sends events to a queue, and clients for all of it.
type rig struct {
	ddb       *dynamodb.Client
	table     string
	streamARN string
	streams   *dynamodbstreams.Client
	eb        *eventbridge.Client
	bus       string
	sqs       *sqs.Client
	queueURL  string
}

func newRig(t *testing.T, pattern map[string]any) *rig {
	t.Helper()
	ctx := context.Background()
	srv := emulatortest.Server(t)
	cfg := srv.AWSConfig()
	r := &rig{
		streams: dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) }),
		eb:      eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) }),
		sqs:     sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) }),
	}
	r.ddb, r.table = emulatortest.NewTable(t)
	desc, err := r.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.table)})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	r.streamARN = aws.ToString(desc.Table.LatestStreamArn)
	if r.streamARN == "" {
		t.Fatal("the test table has no stream")
	}

	name := r.table // unique per test
	q, err := r.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	r.queueURL = aws.ToString(q.QueueUrl)
	attrs, err := r.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue arn: %v", err)
	}
	if _, err := r.eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("create bus: %v", err)
	}
	r.bus = name
	if _, err := r.eb.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String("to-queue"), EventBusName: aws.String(name), EventPattern: aws.String(mustJSON(t, pattern)),
	}); err != nil {
		t.Fatalf("put rule: %v", err)
	}
	if _, err := r.eb.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("to-queue"), EventBusName: aws.String(name),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])}},
	}); err != nil {
		t.Fatalf("put targets: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = r.eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String("to-queue"), EventBusName: aws.String(name), Ids: []string{"queue"}})
		_, _ = r.eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String("to-queue"), EventBusName: aws.String(name)})
		_, _ = r.eb.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(name)})
		_, _ = r.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(r.queueURL)})
	})
	return r
}

// poll reads the table's stream into handle, as Lambda's event source
// mapping does on AWS, until the test ends.
func (r *rig) poll(t *testing.T, handle streampoll.Handler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	poller := &streampoll.Poller{Client: r.streams, StreamARN: r.streamARN, Interval: pollInterval, Log: quiet()}
	go func() { done <- poller.Run(ctx, handle) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stream poller: %v", err)
		}
	})
}

func (r *rig) put(t *testing.T, item any) {
	t.Helper()
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if _, err := r.ddb.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(r.table), Item: av}); err != nil {
		t.Fatalf("put item: %v", err)
	}
}

// bridgeEvent is an EventBridge event as delivered to an SQS target.
type bridgeEvent struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Time       string          `json:"time"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// receive polls the queue until it has n messages or the deadline passes.
func (r *rig) receive(t *testing.T, n int) []bridgeEvent {
	t.Helper()
	var got []bridgeEvent
	deadline := time.Now().Add(waitFor)
	for len(got) < n && time.Now().Before(deadline) {
		out, err := r.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(r.queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		for _, m := range out.Messages {
			var ev bridgeEvent
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(m.Body), err)
			}
			got = append(got, ev)
			_, _ = r.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(r.queueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if len(got) < n {
		t.Fatalf("received %d events within %s; want %d", len(got), waitFor, n)
	}
	return got
}

// assertQueueEmpty checks that nothing more is waiting in the queue.
func (r *rig) assertQueueEmpty(t *testing.T) {
	t.Helper()
	out, err := r.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("unexpected further events: %s", aws.ToString(out.Messages[0].Body))
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestStreamToQueue runs the real path on the emulator: a history item
// written to the table reaches an SQS queue through the stream (read by
// the harness's stream poller), HandleStream, PutEvents and an EventBridge
// rule; other items do not.
func TestStreamToQueue(t *testing.T) {
	r := newRig(t, notify.Pattern())
	eb := &recordingEventBridge{EventBridge: r.eb}
	pub := &notify.Publisher{Client: eb, BusName: r.bus, Log: quiet()}
	r.poll(t, pub.HandleStream)

	// Non-history items first: the stream is ordered, so by the time the
	// history item's event arrives they have been handled.
	r.put(t, map[string]any{"PK": "NUM#acme#+97239754571", "SK": "STATE", "status": "WAITING_FOR_UNASSIGN", "version": 2})
	r.put(t, map[string]any{"PK": "CUST#acme", "SK": "META", "customer_id": "acme", "name": "Acme"})
	h := history(2)
	r.put(t, h)

	got := r.receive(t, 1)
	r.assertQueueEmpty(t)
	if n := eb.count(); n != 1 {
		t.Fatalf("PutEvents carried %d entries; want 1", n)
	}
	ev := got[0]
	if ev.DetailType != notify.DetailType || ev.Source != notify.Source {
		t.Fatalf("event detail-type %q, source %q", ev.DetailType, ev.Source)
	}
	var d notify.Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatalf("detail %s: %v", ev.Detail, err)
	}
	want := notify.Detail{CustomerID: "acme", Number: "+97239754571", ProviderID: "pxc", Version: 2, At: h.At,
		Actor: h.Actor, From: h.From, To: h.To, Why: h.Why, RequestID: h.RequestID}
	if d != want {
		t.Fatalf("detail = %+v\nwant %+v", d, want)
	}
	if ts, err := time.Parse(time.RFC3339, ev.Time); err != nil || !ts.Equal(h.At.Truncate(time.Second)) {
		t.Fatalf("event time = %q; want %s", ev.Time, h.At.Truncate(time.Second).Format(time.RFC3339))
	}
}

// TestStoreChangeIsPublished writes a status change through the store (a
// transaction with its history entry) and expects its event.
func TestStoreChangeIsPublished(t *testing.T) {
	r := newRig(t, notify.Pattern())
	pub := &notify.Publisher{Client: r.eb, BusName: r.bus, Log: quiet()}
	r.poll(t, pub.HandleStream)

	st := store.New(r.ddb, r.table)
	_, err := st.Apply(context.Background(), domain.Change{
		Next:  domain.Number{CustomerID: "acme", Number: "+97239754569", Status: domain.PendingApproval, ProviderID: "pxc", RequestID: "req-9"},
		Actor: "provider:pxc", Why: "release requested by provider",
	})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	got := r.receive(t, 1)
	r.assertQueueEmpty(t)
	var d notify.Detail
	if err := json.Unmarshal(got[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d.CustomerID != "acme" || d.Number != "+97239754569" || d.ProviderID != "pxc" || d.Version != 1 ||
		d.From != "" || d.To != string(domain.PendingApproval) || d.Actor != "provider:pxc" || d.RequestID != "req-9" || d.At.IsZero() {
		t.Fatalf("detail = %+v", d)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The pattern of a carrier's rule (ProviderPattern, which the stack puts on
// the bus for each eventTargets entry) takes the events notify publishes
// for that provider, and no other provider's.
func TestProviderPatternOnTheEmulator(t *testing.T) {
	r := newRig(t, notify.ProviderPattern("pxc"))
	pub := &notify.Publisher{Client: r.eb, BusName: r.bus, Log: quiet()}
	theirs, mine := history(1), history(2)
	theirs.ProviderID = "other"
	res, err := pub.HandleStream(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{
		record(t, 1, "INSERT", theirs), record(t, 2, "INSERT", mine),
	}})
	if err != nil || len(res.BatchItemFailures) != 0 {
		t.Fatalf("HandleStream = %+v, %v", res, err)
	}
	got := r.receive(t, 1)
	r.assertQueueEmpty(t)
	var d notify.Detail
	if err := json.Unmarshal(got[0].Detail, &d); err != nil {
		t.Fatal(err)
	}
	if d.ProviderID != "pxc" || d.Version != 2 {
		t.Fatalf("the rule delivered %+v, want pxc's version 2 only", d)
	}
}
