package streampoll_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"numberrelease/shared/harness/streampoll"
)

// fakeStreams is a stream whose shards are revealed over time: a shard with
// revealAt n is described from the n-th DescribeStream call on. A closed
// shard ends (no next iterator) after its records; an iterator is
// "<shard>|<position>".
type fakeStreams struct {
	mu        sync.Mutex
	shards    []fakeShard
	describes int
	iterTypes []string
}

type fakeShard struct {
	id, parent string
	revealAt   int
	closed     bool
	records    []stypes.Record
}

func (f *fakeStreams) DescribeStream(_ context.Context, in *dynamodbstreams.DescribeStreamInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.describes++
	desc := &stypes.StreamDescription{StreamArn: in.StreamArn}
	for _, s := range f.shards {
		if f.describes >= s.revealAt {
			sh := stypes.Shard{ShardId: aws.String(s.id)}
			if s.parent != "" {
				sh.ParentShardId = aws.String(s.parent)
			}
			desc.Shards = append(desc.Shards, sh)
		}
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: desc}, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.iterTypes = append(f.iterTypes, aws.ToString(in.ShardId)+":"+string(in.ShardIteratorType))
	pos := 0
	if in.ShardIteratorType == stypes.ShardIteratorTypeLatest {
		pos = len(f.shard(aws.ToString(in.ShardId)).records)
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", aws.ToString(in.ShardId), pos))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id, p, _ := strings.Cut(aws.ToString(in.ShardIterator), "|")
	pos, _ := strconv.Atoi(p)
	s := f.shard(id)
	end := min(pos+int(aws.ToInt32(in.Limit)), len(s.records))
	out := &dynamodbstreams.GetRecordsOutput{Records: s.records[pos:end]}
	if !s.closed || end < len(s.records) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	return out, nil
}

func (f *fakeStreams) shard(id string) *fakeShard {
	for i := range f.shards {
		if f.shards[i].id == id {
			return &f.shards[i]
		}
	}
	panic("fake: no shard " + id)
}

func streamRecord(name string) stypes.Record {
	return stypes.Record{
		EventID: aws.String("ev-" + name), EventName: stypes.OperationTypeInsert, EventSource: aws.String("aws:dynamodb"),
		AwsRegion: aws.String("us-east-1"),
		Dynamodb: &stypes.StreamRecord{
			SequenceNumber: aws.String("seq-" + name), StreamViewType: stypes.StreamViewTypeNewImage,
			NewImage: map[string]stypes.AttributeValue{
				"SK":   &stypes.AttributeValueMemberS{Value: name},
				"n":    &stypes.AttributeValueMemberN{Value: "7"},
				"flag": &stypes.AttributeValueMemberBOOL{Value: true},
				"m": &stypes.AttributeValueMemberM{Value: map[string]stypes.AttributeValue{
					"l": &stypes.AttributeValueMemberL{Value: []stypes.AttributeValue{&stypes.AttributeValueMemberS{Value: "x"}, &stypes.AttributeValueMemberNULL{Value: true}}},
				}},
				"ss": &stypes.AttributeValueMemberSS{Value: []string{"a", "b"}},
			},
		},
	}
}

const (
	pollInterval = 50 * time.Millisecond
	waitFor      = 20 * time.Second
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// poller reads arn through client every pollInterval.
func poller(client streampoll.StreamsAPI, arn string) *streampoll.Poller {
	return &streampoll.Poller{Client: client, StreamARN: arn, Interval: pollInterval, Log: quiet()}
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s; state %s", waitFor, state())
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// collector is a handler that records the SKs it was handed, in order.
type collector struct {
	mu   sync.Mutex
	sks  []string
	recs []events.DynamoDBEventRecord
}

func (c *collector) handle(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range ev.Records {
		c.sks = append(c.sks, r.Change.NewImage["SK"].String())
		c.recs = append(c.recs, r)
	}
	return events.DynamoDBEventResponse{}, nil
}

func (c *collector) seen() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.sks...)
}

func TestPollerShards(t *testing.T) {
	tests := []struct {
		name   string
		shards []fakeShard
		want   string
	}{
		{
			name: "a shard that appears after its parent closed is read after it",
			shards: []fakeShard{
				{id: "s1", revealAt: 1, closed: true, records: []stypes.Record{streamRecord("a"), streamRecord("b")}},
				{id: "s2", parent: "s1", revealAt: 2, records: []stypes.Record{streamRecord("c")}},
			},
			want: "[a b c]",
		},
		{
			name: "a child known from the start waits for its parent",
			shards: []fakeShard{
				{id: "s2", parent: "s1", revealAt: 1, records: []stypes.Record{streamRecord("c")}},
				{id: "s1", revealAt: 1, closed: true, records: []stypes.Record{streamRecord("a"), streamRecord("b")}},
			},
			want: "[a b c]",
		},
		{
			name: "a child whose parent was trimmed away is read at once",
			shards: []fakeShard{
				{id: "s2", parent: "gone", revealAt: 1, records: []stypes.Record{streamRecord("c")}},
			},
			want: "[c]",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := &fakeStreams{shards: tt.shards}
			c := &collector{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- (&streampoll.Poller{Client: fs, StreamARN: "arn:stream", Interval: pollInterval, BatchSize: 1, Log: quiet()}).Run(ctx, c.handle)
			}()
			waitUntil(t, func() bool { return fmt.Sprint(c.seen()) == tt.want }, func() string { return fmt.Sprint(c.seen()) })
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := fmt.Sprint(c.seen()); got != tt.want {
				t.Fatalf("handed %s; want %s", got, tt.want)
			}
		})
	}
}

// TestPollerConvertsRecords checks the SDK → Lambda event conversion.
func TestPollerConvertsRecords(t *testing.T) {
	fs := &fakeStreams{shards: []fakeShard{{id: "s1", revealAt: 1, records: []stypes.Record{streamRecord("a")}}}}
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = poller(fs, "arn:stream").Run(ctx, c.handle) }()
	waitUntil(t, func() bool { return len(c.seen()) == 1 }, func() string { return fmt.Sprint(c.seen()) })
	c.mu.Lock()
	r := c.recs[0]
	c.mu.Unlock()
	img := r.Change.NewImage
	l := img["m"].Map()["l"].List()
	if r.EventID != "ev-a" || r.EventName != "INSERT" || r.EventSource != "aws:dynamodb" || r.AWSRegion != "us-east-1" ||
		r.EventSourceArn != "arn:stream" || r.Change.SequenceNumber != "seq-a" || r.Change.StreamViewType != "NEW_IMAGE" ||
		img["n"].Number() != "7" || !img["flag"].Boolean() || len(l) != 2 || l[0].String() != "x" || !l[1].IsNull() ||
		fmt.Sprint(img["ss"].StringSet()) != "[a b]" {
		t.Fatalf("converted record = %+v", r)
	}
}

func TestPollerStartAtLatest(t *testing.T) {
	fs := &fakeStreams{shards: []fakeShard{{id: "s1", revealAt: 1, records: []stypes.Record{streamRecord("old")}}}}
	c := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = (&streampoll.Poller{Client: fs, StreamARN: "arn:stream", Interval: pollInterval, StartAt: stypes.ShardIteratorTypeLatest, Log: quiet()}).Run(ctx, c.handle)
	}()
	waitUntil(t, func() bool { fs.mu.Lock(); defer fs.mu.Unlock(); return len(fs.iterTypes) > 0 }, func() string { return "no iterator yet" })
	fs.mu.Lock()
	fs.shards[0].records = append(fs.shards[0].records, streamRecord("new"))
	fs.mu.Unlock()
	waitUntil(t, func() bool { return len(c.seen()) == 1 }, func() string { return fmt.Sprint(c.seen()) })
	if got := c.seen(); got[0] != "new" {
		t.Fatalf("handed %v; want only the record written after the start", got)
	}
}
