// Package streampoll stands in for Lambda's DynamoDB event source mapping
// where there is none (the local system, the tests: moto does not run
// them): it reads a table's stream and hands its records, in batches, to a
// handler written for Lambda (notify.Publisher.HandleStream,
// starter.Starter.HandleStream), retrying the records the handler reports
// as failed.
package streampoll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// StreamsAPI is the part of the DynamoDB Streams API the poller uses.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var _ StreamsAPI = (*dynamodbstreams.Client)(nil)

// Handler handles one batch of stream records the way a Lambda function
// behind an event source mapping does.
type Handler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Defaults of Poller.
const (
	DefaultPollInterval    = time.Second
	DefaultMaxRedeliveries = 3
	DefaultBatchSize       = 100
	// describeEvery is how many polls pass between looks for new shards
	// when no shard has closed.
	describeEvery = 20
)

// Poller reads one DynamoDB stream and hands its records to a handler.
//
// Each shard is read from StartAt (TRIM_HORIZON by default, so nothing
// written before the poller started is missed; shards that appear later are
// always read from their start). A child shard is read only once its parent
// has been read to its end, so one item's records keep their order. New
// shards are looked for whenever a shard closes, and every few polls.
//
// A record reported in BatchItemFailures (by sequence number or event ID)
// is handed again in the next batch of its shard, at most MaxRedeliveries
// times, then logged and skipped; a handler error counts as every record of
// the batch failing. Unlike Lambda, a failure does not hold back the records
// after it, so the handler must not rely on order across a failure.
type Poller struct {
	Client    StreamsAPI
	StreamARN string
	// Interval is the pause between polls (default DefaultPollInterval).
	Interval time.Duration
	// StartAt is where the shards found at start are read from:
	// TRIM_HORIZON (default) or LATEST.
	StartAt stypes.ShardIteratorType
	// MaxRedeliveries is how often a failed record is handed again
	// (default DefaultMaxRedeliveries).
	MaxRedeliveries int
	// BatchSize is the most records read per GetRecords (default 100).
	BatchSize int32
	// Log receives errors and skipped records (default slog.Default()).
	Log *slog.Logger
}

// shard is the poller's state of one shard.
type shard struct {
	id, parent string
	iter       string
	started    bool
	closed     bool   // GetRecords returned no next iterator
	lastSeq    string // last sequence number read, to renew an expired iterator
	retry      []retryRecord
}

func (s *shard) done() bool { return s.closed && len(s.retry) == 0 }

type retryRecord struct {
	rec    events.DynamoDBEventRecord
	handed int
}

// Run polls until ctx ends and then returns nil. It returns an error at
// once if the stream cannot be described at start, or later if it is gone.
func (p *Poller) Run(ctx context.Context, handle Handler) error {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	shards := map[string]*shard{}
	var order []string
	discover := func() error {
		found, err := p.describe(ctx)
		if err != nil {
			return err
		}
		for _, s := range found {
			if _, ok := shards[s.id]; !ok {
				shards[s.id] = s
				order = append(order, s.id)
			}
		}
		return nil
	}
	if err := discover(); err != nil {
		return err
	}
	// Shards found at start honour StartAt; later ones start at their start.
	initial := make(map[string]bool, len(order))
	for _, id := range order {
		initial[id] = true
	}

	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for polls := 1; ; polls++ {
		rediscover := polls%describeEvery == 0
		for _, id := range order {
			s := shards[id]
			if s.done() {
				continue
			}
			if !s.started {
				if parent, ok := shards[s.parent]; ok && !parent.done() {
					continue
				}
				start := stypes.ShardIteratorTypeTrimHorizon
				if initial[id] && p.StartAt != "" {
					start = p.StartAt
				}
				if err := p.iterator(ctx, s, start, ""); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					if isGone(err) {
						return err
					}
					p.log().WarnContext(ctx, "stream poll: no shard iterator yet", "shard_id", s.id, "err", err)
					continue
				}
				s.started = true
			}
			if err := p.pollShard(ctx, s, handle); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if isGone(err) {
					return err
				}
				p.log().WarnContext(ctx, "stream poll failed; trying again", "shard_id", s.id, "err", err)
			}
			if s.closed {
				rediscover = true
			}
		}
		if rediscover {
			if err := discover(); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if isGone(err) {
					return err
				}
				p.log().WarnContext(ctx, "stream poll: describe failed; trying again", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// describe lists the stream's shards (all pages).
func (p *Poller) describe(ctx context.Context) ([]*shard, error) {
	var out []*shard
	var start *string
	for {
		d, err := p.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(p.StreamARN), ExclusiveStartShardId: start,
		})
		if err != nil {
			return nil, fmt.Errorf("describe stream %s: %w", p.StreamARN, err)
		}
		if d.StreamDescription == nil {
			return out, nil
		}
		for _, s := range d.StreamDescription.Shards {
			out = append(out, &shard{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		start = d.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

// iterator sets the shard's iterator; after is the sequence number to read
// after (with AFTER_SEQUENCE_NUMBER).
func (p *Poller) iterator(ctx context.Context, s *shard, typ stypes.ShardIteratorType, after string) error {
	in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(p.StreamARN), ShardId: aws.String(s.id), ShardIteratorType: typ}
	if after != "" {
		in.SequenceNumber = aws.String(after)
	}
	out, err := p.Client.GetShardIterator(ctx, in)
	if err != nil {
		return fmt.Errorf("get %s iterator of shard %s: %w", typ, s.id, err)
	}
	if out.ShardIterator == nil {
		s.closed = true
		return nil
	}
	s.iter = *out.ShardIterator
	return nil
}

// pollShard reads one batch of a shard and hands it, with the records due
// for another try, to handle.
func (p *Poller) pollShard(ctx context.Context, s *shard, handle Handler) error {
	batch := make([]retryRecord, 0, len(s.retry))
	batch = append(batch, s.retry...)
	s.retry = nil
	var readErr error
	if !s.closed && s.iter != "" {
		readErr = p.read(ctx, s, &batch)
	}
	if len(batch) > 0 {
		p.hand(ctx, s, batch, handle)
	}
	return readErr
}

// read appends the next records of the shard to batch.
func (p *Poller) read(ctx context.Context, s *shard, batch *[]retryRecord) error {
	limit := p.BatchSize
	if limit <= 0 {
		limit = DefaultBatchSize
	}
	out, err := p.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(s.iter), Limit: aws.Int32(limit)})
	var expired *stypes.ExpiredIteratorException
	var trimmed *stypes.TrimmedDataAccessException
	switch {
	case errors.As(err, &expired):
		if s.lastSeq != "" {
			return p.iterator(ctx, s, stypes.ShardIteratorTypeAfterSequenceNumber, s.lastSeq)
		}
		return p.iterator(ctx, s, stypes.ShardIteratorTypeTrimHorizon, "")
	case errors.As(err, &trimmed):
		p.log().WarnContext(ctx, "stream poll: records trimmed before they were read", "shard_id", s.id)
		return p.iterator(ctx, s, stypes.ShardIteratorTypeTrimHorizon, "")
	case err != nil:
		return fmt.Errorf("get records of shard %s: %w", s.id, err)
	}
	for _, r := range out.Records {
		rec := toEventRecord(r, p.StreamARN)
		*batch = append(*batch, retryRecord{rec: rec})
		s.lastSeq = rec.Change.SequenceNumber
	}
	if out.NextShardIterator == nil {
		s.closed, s.iter = true, ""
	} else {
		s.iter = *out.NextShardIterator
	}
	return nil
}

// hand gives one batch to the handler and keeps the failed records for the
// next batch, or skips them once they have had their tries.
func (p *Poller) hand(ctx context.Context, s *shard, batch []retryRecord, handle Handler) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(batch))}
	for i, b := range batch {
		ev.Records[i] = b.rec
	}
	resp, err := handle(ctx, ev)
	failed := make(map[int]bool)
	if err != nil {
		p.log().WarnContext(ctx, "stream handler failed; the whole batch is handed again", "shard_id", s.id, "records", len(batch), "err", err)
		for i := range batch {
			failed[i] = true
		}
	} else {
		for _, f := range resp.BatchItemFailures {
			i := indexOf(batch, f.ItemIdentifier)
			if i < 0 {
				// As on Lambda: an identifier that names no record of the
				// batch fails the whole batch.
				p.log().WarnContext(ctx, "stream handler reported an unknown item; the whole batch is handed again",
					"shard_id", s.id, "item_identifier", f.ItemIdentifier)
				for i := range batch {
					failed[i] = true
				}
				break
			}
			failed[i] = true
		}
	}
	maxRedeliveries := p.MaxRedeliveries
	if maxRedeliveries <= 0 {
		maxRedeliveries = DefaultMaxRedeliveries
	}
	for i, b := range batch {
		if !failed[i] {
			continue
		}
		b.handed++
		if b.handed > maxRedeliveries {
			p.log().ErrorContext(ctx, "stream record skipped after its retries", "shard_id", s.id,
				"event_id", b.rec.EventID, "sequence_number", b.rec.Change.SequenceNumber, "handed", b.handed)
			continue
		}
		s.retry = append(s.retry, b)
	}
}

func indexOf(batch []retryRecord, id string) int {
	if id == "" {
		return -1
	}
	for i, b := range batch {
		if b.rec.Change.SequenceNumber == id || b.rec.EventID == id {
			return i
		}
	}
	return -1
}

// isGone reports whether the stream no longer exists, so polling is over.
func isGone(err error) bool {
	var nf *stypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func (p *Poller) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.Default()
}

// toEventRecord converts an SDK stream record to the aws-lambda-go event shape.
func toEventRecord(r stypes.Record, streamARN string) events.DynamoDBEventRecord {
	rec := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if r.UserIdentity != nil {
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	if d := r.Dynamodb; d != nil {
		rec.Change = events.DynamoDBStreamRecord{
			Keys:           fromStreamMap(d.Keys),
			NewImage:       fromStreamMap(d.NewImage),
			OldImage:       fromStreamMap(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		}
		if d.ApproximateCreationDateTime != nil {
			rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
		}
	}
	return rec
}

func fromStreamMap(m map[string]stypes.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = fromStream(v)
	}
	return out
}

func fromStream(v stypes.AttributeValue) events.DynamoDBAttributeValue {
	switch v := v.(type) {
	case *stypes.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value)
	case *stypes.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value)
	case *stypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value)
	case *stypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value)
	case *stypes.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *stypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value)
	case *stypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value)
	case *stypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value)
	case *stypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = fromStream(e)
		}
		return events.NewListAttribute(l)
	case *stypes.AttributeValueMemberM:
		return events.NewMapAttribute(fromStreamMap(v.Value))
	}
	// An unknown member (a newer API): keep the attribute, as null.
	return events.NewNullAttribute()
}
