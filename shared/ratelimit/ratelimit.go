// Package ratelimit paces calls to Zoom within an account's documented
// per-second limits (zoom.Limiter). DynamoDB is the limiter shared by every
// concurrent Lambda invocation.
//
// # The shared limiter
//
// Zoom counts calls per account and rate-limit label in one-second windows.
// DynamoDB keeps one counter per (account, label, one-second window) in the
// project's one table: item PK "RATE#<account>#<label>", SK "<unix second>",
// with expires_at a minute later so DynamoDB's TTL deletes it. Taking a slot
// is one UpdateItem: ADD n :one, ReturnValues UPDATED_NEW. The caller whose
// ADD returns n ≤ limit has the n-th slot of that window. A slot is only
// used inside its window and not in the last Guard (100 ms by default) of
// it, so that the call reaches Zoom while the window is still current: the
// window's slots are spread evenly over its first 1 s − Guard (slot n at
// (n−1)·(1 s − Guard)/limit), so that admitted calls do not arrive as one
// burst at a window's start. An answer that arrives after its slot's time
// but before the window's usable end is used at once (late); one that
// arrives after the usable end is not used at all (the counter keeps it, so
// the window is never over-admitted; it is one slot fewer for Zoom).
//
// A caller that gets n > limit knows n−1 callers came before it in that
// window; instead of waiting for the next second and contending with all of
// them again, it goes straight to the window its place in line points at,
// ceil((n−limit)/limit) windows later (at least the next), and takes a slot
// there at once (a reservation; it then sleeps until the slot). This keeps
// DynamoDB writes near one or two per call even under a burst of hundreds
// of callers, and serves them roughly in order. Only the first limit ADDs
// of a window are admitted, so a window is never over-admitted by an
// atomic counter; the ADDs of callers that moved on only push later
// arrivals further ahead.
//
// A caller that queues behind others like this (or starts at a window its
// process remembers full, below) does not know its place in the window it
// goes to, so it takes a slot there only when the whole window lies before
// its deadline (maximum wait, or its context's deadline): a slot it could
// not use would be lost to the callers behind it, whose deadlines are
// later. The window a caller's write can first use is always tried if it
// starts before the deadline.
//
// # A slow or throttled table
//
// Each limiter learns how long its writes take (fast up: a slower answer
// replaces the estimate; slow down: a faster one moves it an eighth of the
// way). A write is aimed at the window that is still usable when its answer
// is expected, floor(now + latency + Guard), rather than at the current one,
// so a table that answers in seconds costs a delay, not the slot: with 1 s
// per write a caller is admitted about 1–2 s after it asks. The first write
// of a cold process has no estimate and may come back too late; it teaches
// the estimate and the next write is aimed right. A write that has not
// answered after max(2 s, 3 × the estimate) is abandoned and tried again
// (a hung connection), each time in the same Wait with twice that timeout
// (so a table slower than it is still heard). An abandoned write does not
// teach the estimate: a table that hangs for a while and then recovers
// would leave it far too high.
//
// A write the table refuses for a transient reason (after the SDK's own
// retries: ProvisionedThroughputExceededException, ThrottlingException and
// RequestLimitExceeded on the hot RATE# partition, the SDK's retry quota,
// 5xx, connection errors and timeouts) is tried again after a full-jitter
// exponential backoff (100 ms doubling, at most 2 s). Other table errors
// (a missing table, a validation error) are returned as they are.
//
// When the window a caller would need is beyond its deadline by these
// rules, or the table has not given it a usable slot by then (a refused
// write whose backoff would end after the deadline ends the Wait at once),
// it gives up with a zoom.Error of Kind Throttled (naming the table's last
// error, if any) and a RetryAfter estimate: the state machine then retries
// with its long throttling budget (backoff and full jitter), which spreads
// a large approval over time better than Lambdas sleeping on a queue. So a
// slow or throttled table lowers the admitted rate; it never raises it
// above the limit, and it does not stop admissions while the table answers
// at all within the maximum wait.
//
// Each limiter also remembers, per (account, label), the first window it
// has not seen full (a window answered with n ≥ limit, or one skipped by a
// caller that jumped ahead: the callers before it in line are taking it).
// A later Wait in the same process (a warm Lambda, or the local system
// where every task runs in one process) starts there, and gives up without
// writing when that is already beyond its reach: during a burst, throttled
// retries then cost no DynamoDB writes.
//
// Known limits: windows follow each Lambda's clock (NTP keeps AWS hosts
// within milliseconds), and the limiter's windows are whole Unix seconds
// like the simulator's; Zoom does not document how its own windows are
// aligned. The even spreading keeps calls made on time within the limit in
// any one-second interval, but late slots (a slow table, or a caller that
// arrives mid-window) are used together at once, which is within the limit
// of an aligned window only. Guard must cover the time from Wait's return to
// Zoom's receipt of the call (the client's access token is normally cached;
// a token fetch can take longer). An admitted caller that then does not call
// leaves its slot unused. The ADD is atomic on DynamoDB, and on the tests'
// emulator too (its wrapper serialises writes, docs/EMULATOR.md).
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsratelimit "github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/pause"
	"numberrelease/shared/table"
	"numberrelease/shared/zoom"
)

const (
	// DefaultMaxWait is how long Wait may wait for a slot by default: well
	// under the release-tasks function's 30 s timeout, leaving room for the
	// Zoom call and the status write after it.
	DefaultMaxWait = 10 * time.Second
	// DefaultGuard is how long before the end of its window a slot stops
	// being usable: the time a call made at the slot needs to reach Zoom.
	DefaultGuard = 100 * time.Millisecond
	// maxGuard bounds Config.Guard, so that most of each second is usable.
	maxGuard = 500 * time.Millisecond
	// A write is abandoned (and tried again) when it has not answered after
	// writeTimeoutFactor times the learnt latency, and never sooner than
	// minWriteTimeout.
	minWriteTimeout    = 2 * time.Second
	writeTimeoutFactor = 3
	// A failed write is tried again after a full-jitter exponential
	// backoff from backoffBase, at most backoffMax.
	backoffBase = 100 * time.Millisecond
	backoffMax  = 2 * time.Second
	// latencyDecay: an answer faster than the latency estimate moves it
	// 1/latencyDecay of the way down (a slower one replaces it).
	latencyDecay = 8
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

var _ UpdateItemAPI = (*dynamodb.Client)(nil)

// Config configures a DynamoDB limiter.
type Config struct {
	Client UpdateItemAPI
	// Table is the project's table (shared/table's schema).
	Table string
	// Limits per label; zero fields take zoom.ProLimits.
	Limits zoom.Limits
	// MaxWait bounds one Wait; default DefaultMaxWait.
	MaxWait time.Duration
	// Guard is how long before the end of its one-second window a slot
	// stops being usable, so that the call reaches Zoom within the window;
	// zero means DefaultGuard, and it may be at most 500 ms.
	Guard time.Duration
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
	guard   time.Duration
	now     func() time.Time

	mu      sync.Mutex
	full    map[string]int64 // Key → first window not seen full
	latency time.Duration    // estimate of one write's latency; 0 before the first answer
}

// NewDynamoDB validates cfg and returns the limiter.
func NewDynamoDB(cfg Config) (*DynamoDB, error) {
	if cfg.Client == nil || cfg.Table == "" {
		return nil, errors.New("ratelimit: Client and Table are required")
	}
	if cfg.Guard < 0 || cfg.Guard > maxGuard {
		return nil, fmt.Errorf("ratelimit: Guard %s is not between 0 and %s", cfg.Guard, maxGuard)
	}
	l := &DynamoDB{client: cfg.Client, table: cfg.Table, limits: cfg.Limits.OrPro(), maxWait: cfg.MaxWait,
		guard: cfg.Guard, now: cfg.Now, full: map[string]int64{}}
	if l.maxWait <= 0 {
		l.maxWait = DefaultMaxWait
	}
	if l.guard == 0 {
		l.guard = DefaultGuard
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Limits returns the limits in force.
func (l *DynamoDB) Limits() zoom.Limits { return l.limits }

// Wait takes a slot for one call of label on accountID and sleeps until
// it. It returns a *zoom.Error of Kind Throttled when it gets no usable
// slot within the maximum wait (or before ctx's deadline), whether because
// the windows are full or because the table is throttled or slow; ctx's
// error when ctx is cancelled; and a wrapped DynamoDB error when the table
// fails for a reason retrying will not cure.
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
	w := &wait{l: l, ctx: ctx, account: accountID, label: label, limit: int64(limit), key: Key(accountID, label),
		start: start, deadline: deadline}
	return w.run()
}

// wait is the state of one Wait.
type wait struct {
	l               *DynamoDB
	ctx             context.Context
	account         string
	label           zoom.Label
	limit           int64
	key             string
	start, deadline time.Time
	failures        int   // failed writes in a row
	abandoned       int   // writes abandoned for want of an answer
	storeErr        error // the last failed write's error, for the Throttled message
}

func (w *wait) run() error {
	l := w.l
	window := max(l.target(w.start, w.deadline), l.firstFree(w.key))
	for {
		now := l.now()
		if !now.Before(w.deadline) {
			return w.throttled(now)
		}
		if !w.reachable(window, now) {
			return w.throttled(time.Unix(window, 0))
		}
		n, err := w.take(window, now)
		got := l.now()
		if err != nil {
			if err := w.failed(err, got); err != nil {
				return err
			}
			window = max(l.target(l.now(), w.deadline), l.firstFree(w.key))
			continue
		}
		w.failures = 0
		if n >= w.limit {
			l.seenFull(w.key, window)
		}
		if n > w.limit {
			// The windows skipped are being taken by the callers ahead of
			// this one (who, like it, go no further than their maximum
			// wait).
			next := window + (n-w.limit+w.limit-1)/w.limit
			window = max(next, l.target(got, w.deadline))
			if window == next && w.reachable(next, got) {
				l.seenFull(w.key, next-1)
			}
			continue
		}
		if got.Before(time.Unix(window, 0).Add(time.Second - l.guard)) {
			at := l.slot(window, n, w.limit)
			if at.Before(got) {
				at = got // a late slot, still in its window
			}
			if at.After(w.deadline) {
				return w.throttled(at)
			}
			return pause.Until(w.ctx, got, at)
		}
		// The answer came too late for its window: a call now would land in
		// a later window, over its count. Aim again, at a window the next
		// answer can still use (the estimate has learnt from this one).
		window = max(l.target(got, w.deadline), l.firstFree(w.key))
	}
}

// reachable reports whether a write sent at now may take a slot in window.
// The window a write sent now can first use (target) must start by the
// deadline; a later one, where the caller queues behind others and does not
// know its place, must end by it, so that a slot it cannot use before its
// deadline is not taken from the callers behind it.
func (w *wait) reachable(window int64, now time.Time) bool {
	if time.Unix(window, 0).After(w.deadline) {
		return false
	}
	return window <= w.l.target(now, w.deadline) || !w.l.slot(window, w.limit, w.limit).After(w.deadline)
}

// slot returns the time of the n-th of limit slots of window.
func (l *DynamoDB) slot(window, n, limit int64) time.Time {
	return time.Unix(window, 0).Add(time.Duration(n-1) * (time.Second - l.guard) / time.Duration(limit))
}

// errWriteTimeout marks a write abandoned after the limiter's own timeout.
var errWriteTimeout = errors.New("no answer in time")

// take writes one count in window and teaches the latency estimate from
// the answer. A write is abandoned after the write timeout, doubled for
// each write this Wait has already abandoned (a table slower than the
// timeout is still heard), and never after the deadline.
func (w *wait) take(window int64, sent time.Time) (int64, error) {
	l := w.l
	timeout := min(l.writeTimeout()<<min(w.abandoned, 4), w.deadline.Sub(sent))
	ctx, cancel := context.WithTimeout(w.ctx, timeout)
	defer cancel()
	n, err := l.take(ctx, w.account, w.label, window)
	switch {
	case err == nil:
		l.observe(l.now().Sub(sent))
	case ctx.Err() != nil && w.ctx.Err() == nil:
		// Abandoned. This does not teach the estimate: a table that hangs
		// for a while and then recovers would leave it far too high.
		w.abandoned++
		err = fmt.Errorf("%w after %s: %w", errWriteTimeout, timeout.Round(time.Millisecond), err)
	}
	return n, err
}

// failed handles a failed write at now: it returns the error to end the
// Wait with, or nil after a backoff when the write may be tried again.
func (w *wait) failed(err error, now time.Time) error {
	switch cerr := w.ctx.Err(); {
	case errors.Is(cerr, context.DeadlineExceeded):
		w.storeErr = err
		return w.throttled(now)
	case cerr != nil:
		return cerr
	}
	if !errors.Is(err, errWriteTimeout) && !transient(err) {
		return err
	}
	w.storeErr = err
	w.failures++
	d := rand.N(min(backoffMax, backoffBase<<min(w.failures-1, 8))) + 1
	if !now.Add(d).Before(w.deadline) {
		return w.throttled(now.Add(d))
	}
	slog.DebugContext(w.ctx, "rate limiter: table write failed; backing off", "account", w.account, "label", w.label,
		"failures", w.failures, "backoff", d, "error", err)
	return pause.Until(w.ctx, now, now.Add(d))
}

// transientChecks are the SDK's own: throttling codes
// (ProvisionedThroughputExceededException, ThrottlingException,
// RequestLimitExceeded, ...), RequestTimeout, 5xx, connection errors.
var transientChecks = retry.IsErrorRetryables(retry.DefaultRetryables)

// transient reports whether a failed write may succeed when tried again.
func transient(err error) bool {
	var quota awsratelimit.QuotaExceededError
	return errors.As(err, &quota) || transientChecks.IsErrorRetryable(err).Bool()
}

// throttled is the error of a Wait that found no usable slot before its
// deadline; next is the earliest time it saw one might be.
func (w *wait) throttled(next time.Time) error {
	msg := fmt.Sprintf("client-side pacing: no %s slot for Zoom account %s within %s (%d calls per second)",
		w.label, w.account, w.deadline.Sub(w.start).Round(time.Millisecond), w.limit)
	if w.storeErr != nil {
		msg += "; rate-limit table: " + w.storeErr.Error()
		slog.WarnContext(w.ctx, "rate limiter: no slot in time; the table is throttled or slow", "account", w.account,
			"label", w.label, "error", w.storeErr)
	}
	return &zoom.Error{Kind: zoom.Throttled, RetryAfter: max(time.Second, next.Sub(w.start).Round(time.Second)), Message: msg}
}

// target returns the window a write sent at t should take a slot in: the
// first one still usable when the answer is expected (after the learnt
// latency). When that is after the window of deadline, it is the window of
// deadline (or the current one, if later): the estimate may be stale, and
// an answer that comes sooner teaches it.
func (l *DynamoDB) target(t, deadline time.Time) int64 {
	w := t.Add(l.estimate() + l.guard).Unix()
	if last := deadline.Unix(); w > last {
		w = max(last, t.Add(l.guard).Unix())
	}
	return w
}

// estimate returns the learnt latency of one write.
func (l *DynamoDB) estimate() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latency
}

// observe teaches the latency estimate one write's latency: a slower one
// replaces it, a faster one moves it 1/latencyDecay of the way down.
func (l *DynamoDB) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d >= l.latency {
		l.latency = d
	} else {
		l.latency -= (l.latency - d) / latencyDecay
	}
}

// writeTimeout is how long one write may take before it is abandoned.
func (l *DynamoDB) writeTimeout() time.Duration {
	return max(minWriteTimeout, writeTimeoutFactor*l.estimate())
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
