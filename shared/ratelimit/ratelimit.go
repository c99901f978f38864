// Package ratelimit paces calls to Zoom within an account's documented
// per-second limits (zoom.Limiter). DynamoDB is the limiter shared by every
// concurrent Lambda invocation; Memory is a process-local token bucket for
// tests and single-process use.
//
// # The shared limiter
//
// Zoom counts calls per account and rate-limit label. DynamoDB keeps one
// counter per (account, label, one-second window) in the project's one
// table: item PK "RATE#<account>#<label>", SK "<unix second>", with
// expires_at a minute later so DynamoDB's TTL deletes it. Taking a slot is
// one UpdateItem: ADD n :one, ReturnValues UPDATED_NEW. The caller whose
// ADD returns n ≤ limit has the n-th slot of that window; the window's slots
// are spread evenly over its second (slot n at (n-1)/limit s), so that
// admitted calls never arrive as one burst at a window's start, whatever
// the offset of Zoom's own windows.
//
// A caller that gets n > limit knows n-1 callers came before it in that
// window; instead of waiting for the next second and contending with all of
// them again, it goes straight to the window its place in line points at,
// ceil((n-limit)/limit) windows later (at least the next), and takes a slot
// there at once (a reservation; it then sleeps until the slot). This keeps
// DynamoDB writes near one or two per call even under a burst of hundreds
// of callers, and serves them roughly in order. Only the first limit ADDs
// of a window are admitted, so a window is never over-admitted by an
// atomic counter; the ADDs of callers that moved on only push later
// arrivals further ahead.
//
// When the window a caller would need starts after its maximum wait (or
// after its context's deadline), it gives up at once with a zoom.Error of
// Kind Throttled and a RetryAfter estimate: the state machine then retries
// with backoff and full jitter, which spreads a large approval over time
// better than Lambdas sleeping on a queue.
//
// Each limiter also remembers, per (account, label), the first window it
// has not seen full. A later Wait in the same process (a warm Lambda, or
// the local system where every task runs in one process) starts there, and
// gives up without writing when that is already beyond its maximum wait:
// during a burst, throttled retries then cost no DynamoDB writes.
//
// A slot is only used within its window: when the ADD answers after its
// window ended (a slow table), the caller takes a slot in the current window
// instead, so a late call never lands in a window over its count.
//
// Known limits: windows follow each Lambda's clock (NTP keeps AWS hosts
// within milliseconds); Zoom's own windows are not aligned with ours, which
// the even spreading makes harmless at the configured rate; an admitted
// caller that then does not call leaves its slot unused. moto (the tests'
// emulator) does not make concurrent ADDs atomic, so there a window can be
// over-admitted; on DynamoDB the ADD is atomic.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/table"
	"numberrelease/shared/zoom"
)

const (
	// DefaultMaxWait is how long Wait may wait for a slot by default: well
	// under the release-tasks function's 30 s timeout, leaving room for the
	// Zoom call and the status write after it.
	DefaultMaxWait = 10 * time.Second
	// itemTTL is how long a window's item outlives its second.
	itemTTL = time.Minute
	// keyPrefix starts the partition key of the limiter's items.
	keyPrefix = "RATE#"
	attrCount = "n"
)

// UpdateItemAPI is the DynamoDB call the limiter makes; *dynamodb.Client
// has it.
type UpdateItemAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Config configures a DynamoDB limiter.
type Config struct {
	Client UpdateItemAPI
	// Table is the project's table (shared/table's schema).
	Table string
	// Limits per label; zero fields take zoom.ProLimits.
	Limits zoom.Limits
	// MaxWait bounds one Wait; default DefaultMaxWait.
	MaxWait time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// DynamoDB is the limiter shared by all concurrent callers through the
// table. It is safe for concurrent use.
type DynamoDB struct {
	client  UpdateItemAPI
	table   string
	limits  zoom.Limits
	maxWait time.Duration
	now     func() time.Time

	mu   sync.Mutex
	full map[string]int64 // Key → first window not seen full
}

// NewDynamoDB validates cfg and returns the limiter.
func NewDynamoDB(cfg Config) (*DynamoDB, error) {
	if cfg.Client == nil || cfg.Table == "" {
		return nil, errors.New("ratelimit: Client and Table are required")
	}
	l := &DynamoDB{client: cfg.Client, table: cfg.Table, limits: cfg.Limits.OrPro(), maxWait: cfg.MaxWait, now: cfg.Now,
		full: map[string]int64{}}
	if l.maxWait <= 0 {
		l.maxWait = DefaultMaxWait
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Limits returns the limits in force.
func (l *DynamoDB) Limits() zoom.Limits { return l.limits }

// Wait takes a slot for one call of label on accountID and sleeps until
// it. It returns a *zoom.Error of Kind Throttled when no slot is free
// within the maximum wait (or before ctx's deadline), ctx's error when ctx
// ends while it sleeps, and a wrapped DynamoDB error when the table cannot
// be updated.
func (l *DynamoDB) Wait(ctx context.Context, accountID string, label zoom.Label) error {
	limit := l.limits.Of(label)
	if limit <= 0 {
		return &zoom.Error{Kind: zoom.Rejected, Message: fmt.Sprintf("client-side pacing: unknown rate-limit label %q", label)}
	}
	start := l.now()
	deadline := start.Add(l.maxWait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	key := Key(accountID, label)
	window := max(start.Unix(), l.firstFree(key))
	if next := time.Unix(window, 0); next.After(deadline) {
		return l.throttled(accountID, label, limit, start, deadline, next)
	}
	for {
		n, err := l.take(ctx, accountID, label, window)
		if err != nil {
			return err
		}
		if n >= int64(limit) {
			l.seenFull(key, window)
		}
		if n <= int64(limit) {
			now := l.now()
			if now.Unix() > window {
				// The ADD came back after its window ended (a slow table):
				// a call now would land in a later window, over its count.
				// Take a slot in the current one instead.
				if now.After(deadline) {
					return l.throttled(accountID, label, limit, start, deadline, now)
				}
				window = now.Unix()
				continue
			}
			slot := time.Unix(window, 0).Add(time.Duration(n-1) * time.Second / time.Duration(limit))
			if slot.After(deadline) {
				return l.throttled(accountID, label, limit, start, deadline, slot)
			}
			return sleepUntil(ctx, now, slot)
		}
		next := window + max(1, (n-int64(limit)+int64(limit)-1)/int64(limit))
		if t := time.Unix(next, 0); t.After(deadline) {
			return l.throttled(accountID, label, limit, start, deadline, t)
		}
		// The windows skipped are being taken by the callers ahead of this
		// one (who, like it, go no further than their maximum wait).
		l.seenFull(key, next-1)
		window = next
	}
}

// firstFree returns the first window of key not seen full (0: none seen).
func (l *DynamoDB) firstFree(key string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.full[key]
}

// seenFull records that window of key is full.
func (l *DynamoDB) seenFull(key string, window int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if window+1 > l.full[key] {
		l.full[key] = window + 1
	}
	// Forget keys whose windows are long past (accounts come and go).
	if len(l.full) > 1024 {
		now := l.now().Unix()
		for k, w := range l.full {
			if w < now {
				delete(l.full, k)
			}
		}
	}
}

// throttled is the error of a Wait that found no slot before deadline;
// next is the earliest slot it saw.
func (l *DynamoDB) throttled(accountID string, label zoom.Label, limit int, start, deadline, next time.Time) error {
	return &zoom.Error{Kind: zoom.Throttled, RetryAfter: max(time.Second, next.Sub(start).Round(time.Second)),
		Message: fmt.Sprintf("client-side pacing: no %s slot for Zoom account %s within %s (%d calls per second)",
			label, accountID, deadline.Sub(start).Round(time.Millisecond), limit)}
}

// take adds one to the counter of (accountID, label, window) and returns
// the new count.
func (l *DynamoDB) take(ctx context.Context, accountID string, label zoom.Label, window int64) (int64, error) {
	out, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.table),
		Key: map[string]types.AttributeValue{
			table.AttrPK: &types.AttributeValueMemberS{Value: Key(accountID, label)},
			table.AttrSK: &types.AttributeValueMemberS{Value: strconv.FormatInt(window, 10)},
		},
		UpdateExpression:         aws.String("SET #ttl = :ttl ADD #n :one"),
		ExpressionAttributeNames: map[string]string{"#ttl": table.AttrTTL, "#n": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ttl": &types.AttributeValueMemberN{Value: strconv.FormatInt(window+int64(itemTTL/time.Second), 10)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("ratelimit: take a %s slot for %s: %w", label, accountID, err)
	}
	v, ok := out.Attributes[attrCount].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("ratelimit: take a %s slot for %s: no count in the answer", label, accountID)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("ratelimit: take a %s slot for %s: count %q: %w", label, accountID, v.Value, err)
	}
	return n, nil
}

// Key is the partition key of the limiter's items for accountID and label.
func Key(accountID string, label zoom.Label) string {
	return keyPrefix + accountID + "#" + string(label)
}

// sleepUntil sleeps from now until t, or until ctx ends.
func sleepUntil(ctx context.Context, now, t time.Time) error {
	d := t.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
