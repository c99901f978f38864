// Package pacing spreads the starts of one customer's release workflows
// over time, at the pace the customer's Zoom budget can serve: a queue
// clock per customer in DynamoDB hands each approval a start time, and the
// workflow waits for it (the "Queued" Wait state) before it calls Zoom.
//
// Without it, a 1,000-number approval starts 1,000 executions at once.
// Zoom and release-tasks' concurrency cap serve a few releases a second (on
// Pro, Zoom takes 10 Medium calls a second, one per release), so all but a
// few of them spend minutes
// retrying: throttled by the rate limiter, refused a concurrency slot
// (shared/slots) or refused by Lambda over the account's concurrency. Every
// retry is a state transition and an invocation that buys nothing. A paced
// execution instead waits in one Wait state, which costs nothing while it
// waits, and meets a budget with room in it.
//
// # The item
//
// The queue of customer c is one item of the project's one table: PK
// "PACE#<c>", SK "PACE", next_at the Unix millisecond at which the queue's
// next start is free, and expires_at a day after it, so DynamoDB's TTL
// deletes an idle queue.
//
// # Reserving
//
// Reserve(c, n) takes n starts, Interval apart, from the later of now and
// next_at, with at most two conditional writes and no read:
//
//   - an idle queue (no item, or next_at not after now) is restarted at
//     now: SET next_at = now + n×Interval, on the condition that next_at is
//     missing or not after now;
//   - a busy queue is extended: ADD n×Interval to next_at, on the
//     condition that next_at is after now, returning the new value, so the
//     reserved starts are the n intervals before it.
//
// Each write is atomic, so concurrent reservations (stream batches of two
// shards) never get the same start. When the queue changes state between
// the two (it drained, or another reservation restarted it), the loop tries
// again, a few times.
//
// Pacing only spreads load: the rate limiter (shared/ratelimit) still
// enforces Zoom's limits. A caller whose reservation fails may start at
// once, which is correct, only less efficient.
package pacing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
	"numberrelease/shared/zoom"
)

const (
	// KeyPrefix starts the partition key of a customer's queue item.
	KeyPrefix = "PACE#"
	sortKey   = "PACE"
	attrNext  = "next_at"
	// itemTTL is how long a queue item outlives its last reserved start.
	itemTTL = 24 * time.Hour
	// attempts bounds the writes of one reservation.
	attempts = 6
	// MaxReserve bounds the starts of one reservation.
	MaxReserve = 10000
)

// mediumCallsApart is how many Medium calls' worth of the account's budget
// separates two starts.
//
// A release of an unassigned number makes one Medium call in customer mode
// (the delete; the check's lookup is Light) and two Light calls in carrier
// mode, so Zoom alone would serve a start every Medium call. Before Zoom's
// Number Management API the lookup was Medium too, and the starts were
// spaced two Medium calls apart; the spacing is kept: at twice the pace,
// release-tasks' concurrency cap (shared/slots), not Zoom, is the limit of
// a large approval (BENCHMARKS.md: the cap alone allows about 17
// invocations a second, two a release), and checks that find every slot
// held take new turns (Requeued). A shorter spacing is for make bench to
// decide.
const mediumCallsApart = 2

// Interval is the time between two starts of one customer:
// mediumCallsApart calls at limits.Medium calls a second (200 ms at Pro
// limits). It also leaves room for the two Light calls of a carrier-mode
// release, Zoom's Light limit being twice its Medium one.
func Interval(limits zoom.Limits) time.Duration {
	if limits.Medium <= 0 {
		return 0
	}
	return time.Duration(mediumCallsApart) * time.Second / time.Duration(limits.Medium)
}

// API is the DynamoDB call a Pacer makes.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Config configures a Pacer.
type Config struct {
	Client API
	Table  string
	// Interval is the time between two starts of one customer (Interval of
	// the stage's Zoom limits).
	Interval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Pacer hands out start times from per-customer queues.
type Pacer struct {
	cfg Config
}

// New checks cfg and returns its Pacer.
func New(cfg Config) (*Pacer, error) {
	// The item keeps milliseconds: so does the interval, so every reserved
	// start is exact.
	cfg.Interval = cfg.Interval.Truncate(time.Millisecond)
	if cfg.Client == nil || cfg.Table == "" || cfg.Interval <= 0 {
		return nil, fmt.Errorf("pacing: client, table and an interval of 1 ms or more are required (interval %s)", cfg.Interval)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Pacer{cfg: cfg}, nil
}

// Reserve takes n consecutive starts from customerID's queue and returns
// them in order: the first is now or later, each next one Interval after
// the one before.
func (p *Pacer) Reserve(ctx context.Context, customerID string, n int) ([]time.Time, error) {
	if customerID == "" || n < 1 || n > MaxReserve {
		return nil, fmt.Errorf("pacing: reserve %d starts for customer %q: want a customer and 1 to %d starts", n, customerID, MaxReserve)
	}
	span := time.Duration(n) * p.cfg.Interval
	for range attempts {
		now := p.cfg.Now().Truncate(time.Millisecond) // the item keeps milliseconds
		first, ok, err := p.restart(ctx, customerID, now, span)
		if err != nil {
			return nil, err
		}
		if !ok {
			first, ok, err = p.extend(ctx, customerID, now, span)
			if err != nil {
				return nil, err
			}
		}
		if ok {
			starts := make([]time.Time, n)
			for i := range starts {
				starts[i] = first.Add(time.Duration(i) * p.cfg.Interval)
			}
			return starts, nil
		}
	}
	return nil, fmt.Errorf("pacing: reserve %d starts for customer %q: the queue kept changing under %d attempts", n, customerID, attempts)
}

// update makes one conditional write of customerID's queue item (#next is
// next_at, #ttl expires_at): ok is false when its condition did not hold.
func (p *Pacer) update(ctx context.Context, customerID, op, expr, cond string, values map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	out, err := p.cfg.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(p.cfg.Table),
		Key: map[string]types.AttributeValue{
			table.AttrPK: &types.AttributeValueMemberS{Value: KeyPrefix + customerID},
			table.AttrSK: &types.AttributeValueMemberS{Value: sortKey},
		},
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#next": attrNext, "#ttl": table.AttrTTL},
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	var refused *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return out.Attributes, true, nil
	case errors.As(err, &refused):
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("pacing: %s the queue of customer %q: %w", op, customerID, err)
	}
}

// restart starts an idle queue at now; ok is false when the queue is busy.
func (p *Pacer) restart(ctx context.Context, customerID string, now time.Time, span time.Duration) (time.Time, bool, error) {
	end := now.Add(span)
	_, ok, err := p.update(ctx, customerID, "restart", "SET #next = :end, #ttl = :ttl", "attribute_not_exists(#next) OR #next <= :now",
		map[string]types.AttributeValue{":end": millis(end), ":now": millis(now), ":ttl": unix(end.Add(itemTTL))})
	return now, ok, err
}

// extend appends span to a busy queue; ok is false when the queue is idle.
func (p *Pacer) extend(ctx context.Context, customerID string, now time.Time, span time.Duration) (time.Time, bool, error) {
	attrs, ok, err := p.update(ctx, customerID, "extend", "ADD #next :span SET #ttl = :ttl", "#next > :now",
		map[string]types.AttributeValue{
			":span": &types.AttributeValueMemberN{Value: strconv.FormatInt(span.Milliseconds(), 10)},
			":now":  millis(now),
			// The item lives a day past the end, wherever the end lands:
			// an underestimate by the queue's length, which is short.
			":ttl": unix(now.Add(span).Add(itemTTL)),
		})
	if err != nil || !ok {
		return time.Time{}, ok, err
	}
	v, found := attrs[attrNext].(*types.AttributeValueMemberN)
	if !found {
		return time.Time{}, false, fmt.Errorf("pacing: extend the queue of customer %q: the answer has no %s", customerID, attrNext)
	}
	ms, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("pacing: extend the queue of customer %q: %s %q: %w", customerID, attrNext, v.Value, err)
	}
	return time.UnixMilli(ms).Add(-span), true, nil
}

func millis(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.UnixMilli(), 10)}
}

func unix(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}
