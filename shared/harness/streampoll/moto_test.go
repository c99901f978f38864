package streampoll_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/streampoll"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// table is an emulator table with its stream and a streams client.
type table struct {
	db        *dynamodb.Client
	name      string
	streams   *dynamodbstreams.Client
	streamARN string
}

func newTable(t *testing.T) table {
	t.Helper()
	srv := emulatortest.Server(t)
	db, name := emulatortest.NewTable(t)
	desc, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("describe table: %v", err)
	}
	streams := dynamodbstreams.NewFromConfig(srv.AWSConfig(), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
	return table{db: db, name: name, streams: streams, streamARN: aws.ToString(desc.Table.LatestStreamArn)}
}

// put writes an item with the key PK "P", SK sk.
func (tb table) put(t *testing.T, sk string) {
	t.Helper()
	_, err := tb.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tb.name), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "P"}, "SK": &types.AttributeValueMemberS{Value: sk},
	}})
	if err != nil {
		t.Fatalf("put %s: %v", sk, err)
	}
}

// TestPollerRedelivers checks the poller's retry rule on the emulator's
// stream: a record reported as failed is handed again, at most
// DefaultMaxRedeliveries more times, then skipped, and polling goes on.
func TestPollerRedelivers(t *testing.T) {
	tb := newTable(t)
	var mu sync.Mutex
	handed := map[string]int{} // SK → times handed
	failSK := map[string]int{"H#00000001": -1, "H#00000002": 1}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- poller(tb.streams, tb.streamARN).Run(ctx, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			var resp events.DynamoDBEventResponse
			for _, rec := range ev.Records {
				sk := rec.Change.NewImage["SK"].String()
				handed[sk]++
				if n := failSK[sk]; n < 0 || handed[sk] <= n {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
				}
			}
			return resp, nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	state := func() string { mu.Lock(); defer mu.Unlock(); return fmt.Sprint(handed) }
	tb.put(t, "H#00000001")
	tb.put(t, "H#00000002")
	waitUntil(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handed["H#00000001"] == 1+streampoll.DefaultMaxRedeliveries && handed["H#00000002"] == 2
	}, state)

	// Skipped for good: a later record is handled, the skipped one not again.
	tb.put(t, "H#00000003")
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return handed["H#00000003"] == 1 }, state)
	mu.Lock()
	defer mu.Unlock()
	if handed["H#00000001"] != 4 || handed["H#00000002"] != 2 {
		t.Fatalf("handed = %v; want H#00000001 4 times and H#00000002 twice", handed)
	}
}

// TestPollerFailsOnAMissingStream: a stream that does not exist ends Run
// with an error at once.
func TestPollerFailsOnAMissingStream(t *testing.T) {
	tb := newTable(t)
	arn := strings.Replace(tb.streamARN, tb.name, tb.name+"-missing", 1)
	if err := poller(tb.streams, arn).Run(context.Background(), (&collector{}).handle); err == nil {
		t.Fatal("Run on a missing stream returned nil")
	}
}
