package ratelimit_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/table"
	"numberrelease/shared/zoom"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// outcome is what one Wait returned, and when.
type outcome struct {
	at  time.Time
	err error
}

// waitAll runs n concurrent Waits and returns their outcomes.
func waitAll(ctx context.Context, l zoom.Limiter, n int, account string, label zoom.Label) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := l.Wait(ctx, account, label)
			out[i] = outcome{at: time.Now(), err: err}
		})
	}
	wg.Wait()
	return out
}

// perSecond counts the admitted outcomes per Unix second; it fails the test
// on an error that is not Throttled and returns the Throttled count.
func perSecond(t *testing.T, outs []outcome) (map[int64]int, int) {
	t.Helper()
	m := map[int64]int{}
	throttled := 0
	for _, o := range outs {
		switch {
		case o.err == nil:
			m[o.at.Unix()]++
		case zoom.KindOf(o.err) == zoom.Throttled:
			throttled++
			var ze *zoom.Error
			if errors.As(o.err, &ze); ze.RetryAfter <= 0 {
				t.Errorf("Throttled without RetryAfter: %v", o.err)
			}
		default:
			t.Fatalf("Wait: %v", o.err)
		}
	}
	return m, throttled
}

// TestDynamoDBOnTheEmulator runs the shared limiter against moto (whose
// ADDs the emulator's wrapper makes atomic): the calls are spread over
// windows, every item has its TTL, and a caller gives up with Throttled;
// TestDynamoDBExact checks the exact guarantees in virtual time.
func TestDynamoDBOnTheEmulator(t *testing.T) {
	t.Parallel()
	client, name := emulatortest.NewTable(t)
	l, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: client, Table: name, Limits: zoom.Limits{Medium: 10}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	outs := waitAll(context.Background(), l, 50, "acct-a", zoom.Medium)
	counts, throttled := perSecond(t, outs)
	if throttled != 0 {
		t.Fatalf("%d of 50 Waits throttled; 50 calls at 10/s fit in the 10 s maximum wait", throttled)
	}
	if len(counts) < 4 {
		t.Fatalf("50 calls at 10/s took %d windows %v; want ≥ 4", len(counts), counts)
	}
	t.Logf("50 Waits at 10/s: %d windows %v in %s", len(counts), counts, time.Since(start).Round(time.Millisecond))

	// The window items: the shared schema's keys, expires_at a minute on.
	q, err := client.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String(name),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: ratelimit.Key("acct-a", zoom.Medium)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) < 4 {
		t.Fatalf("%d window items; want ≥ 4", len(q.Items))
	}
	for _, it := range q.Items {
		sk, _ := strconv.ParseInt(it[table.AttrSK].(*types.AttributeValueMemberS).Value, 10, 64)
		exp, _ := strconv.ParseInt(it[table.AttrTTL].(*types.AttributeValueMemberN).Value, 10, 64)
		if exp != sk+60 || sk < start.Unix() {
			t.Errorf("item %v: expires_at %d; want %d", it[table.AttrSK], exp, sk+60)
		}
	}

	// A full account: another label and account are unaffected, and a
	// caller that cannot be served within its maximum wait gives up at once.
	short, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: client, Table: name, Limits: zoom.Limits{Heavy: 2}, MaxWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	outs = waitAll(context.Background(), short, 12, "acct-b", zoom.Heavy)
	counts, throttled = perSecond(t, outs)
	if throttled == 0 || throttled == 12 {
		t.Fatalf("%d of 12 Waits throttled at 2/s with a 1 s maximum wait; want some, not all (%v)", throttled, counts)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Fatalf("took %s; the maximum wait is 1 s", d)
	}
}

// atomicTable is an UpdateItemAPI whose ADD is atomic, as DynamoDB's is.
type atomicTable struct {
	mu     sync.Mutex
	counts map[string]int64
	err    error
	keys   []string // SKs asked for, in order
	// slowFirst makes the first answer come after the next second starts.
	slowFirst bool
}

func (a *atomicTable) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.slowFirst && len(a.keys) == 0 {
		next := time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)
		time.Sleep(time.Until(next)) // the table answers late: the window has ended
	}
	a.keys = append(a.keys, in.Key[table.AttrSK].(*types.AttributeValueMemberS).Value)
	if a.err != nil {
		return nil, a.err
	}
	k := in.Key[table.AttrPK].(*types.AttributeValueMemberS).Value + "|" + in.Key[table.AttrSK].(*types.AttributeValueMemberS).Value
	a.counts[k]++
	return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
		"n": &types.AttributeValueMemberN{Value: strconv.FormatInt(a.counts[k], 10)},
	}}, nil
}

func (a *atomicTable) writes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for _, c := range a.counts {
		n += c
	}
	return n
}

// TestDynamoDBExact checks the exact guarantees with an atomic counter, in
// virtual time.
func TestDynamoDBExact(t *testing.T) {
	tests := []struct {
		name          string
		limit, calls  int
		maxWait       time.Duration
		wantThrottled int // -1: some but not all
		maxWindows    int // admitted calls span at most this many windows
	}{
		{"30 calls at 10/s: three or four windows, never more than 10 in one", 10, 30, 10 * time.Second, 0, 4},
		{"burst beyond the maximum wait gives up at once", 10, 60, 2 * time.Second, -1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				at := &atomicTable{counts: map[string]int64{}}
				l, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: at, Table: "t", Limits: zoom.Limits{Light: tt.limit}, MaxWait: tt.maxWait})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond) // mid-window
				begin := time.Now()
				var outs []outcome
				done := make(chan struct{})
				go func() {
					outs = waitAll(context.Background(), l, tt.calls, "acct", zoom.Light)
					close(done)
				}()
				synctest.Wait() // the burst has its slots; the admitted callers sleep until theirs
				writes := at.writes()
				// The limiter remembers the windows it saw full: a caller
				// that could only reach those gives up without a write.
				afterErr := l.Wait(context.Background(), "acct", zoom.Light)
				afterWrites := at.writes() - writes
				<-done
				counts, throttled := perSecond(t, outs)
				for sec, n := range counts {
					if n > tt.limit {
						t.Errorf("second %d admitted %d calls; limit %d", sec, n, tt.limit)
					}
				}
				if len(counts) > tt.maxWindows {
					t.Errorf("admitted calls span %d windows %v; want ≤ %d", len(counts), counts, tt.maxWindows)
				}
				switch {
				case tt.wantThrottled >= 0 && throttled != tt.wantThrottled,
					tt.wantThrottled < 0 && (throttled == 0 || throttled == tt.calls):
					t.Fatalf("%d throttled; want %d (-1: some)", throttled, tt.wantThrottled)
				}
				if d := time.Since(begin); d > tt.maxWait+time.Second {
					t.Fatalf("took %s; maximum wait %s", d, tt.maxWait)
				}
				// DynamoDB writes stay near one or two per call.
				if writes > int64(3*tt.calls) {
					t.Errorf("%d UpdateItem calls for %d Waits", writes, tt.calls)
				}
				if throttled > 0 && (zoom.KindOf(afterErr) != zoom.Throttled || afterWrites != 0) {
					t.Fatalf("Wait after the burst: %v with %d UpdateItem calls; want Throttled with none", afterErr, afterWrites)
				}
			})
		})
	}
}

// TestDynamoDBSlotOutlivedByASlowTable: a slot whose ADD answered after its
// window ended is not used; the caller takes another, in a window it can
// still use (aimed with the latency it has just seen), and calls in it.
func TestDynamoDBSlotOutlivedByASlowTable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at := &atomicTable{counts: map[string]int64{}, slowFirst: true}
		l, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: at, Table: "t", Limits: zoom.Limits{Medium: 10}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // mid-window
		if err := l.Wait(context.Background(), "acct", zoom.Medium); err != nil {
			t.Fatal(err)
		}
		done := time.Now().Unix()
		if len(at.keys) != 2 || at.keys[0] == at.keys[1] || at.keys[1] != strconv.FormatInt(done, 10) {
			t.Fatalf("windows taken %v, call made in second %d; want a second take in the call's window", at.keys, done)
		}
	})
}

func TestDynamoDBErrors(t *testing.T) {
	at := &atomicTable{counts: map[string]int64{}}
	l, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: at, Table: "t", Limits: zoom.Limits{Medium: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []ratelimit.Config{
		{Table: "t"},
		{Client: at, Table: "t", Guard: time.Second},
		{Client: at, Table: "t", Guard: -time.Millisecond},
	} {
		if _, err := ratelimit.NewDynamoDB(cfg); err == nil {
			t.Fatalf("NewDynamoDB(%+v) succeeded", cfg)
		}
	}
	// The next windows are taken; the caller's deadline comes before a free one.
	now := time.Now().Unix()
	for sec := now; sec < now+5; sec++ {
		at.counts[ratelimit.Key("acct", zoom.Medium)+"|"+strconv.FormatInt(sec, 10)] = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err = l.Wait(ctx, "acct", zoom.Medium)
	if zoom.KindOf(err) != zoom.Throttled || time.Since(begin) > 200*time.Millisecond {
		t.Fatalf("Wait near a deadline: %v after %s; want Throttled at once", err, time.Since(begin))
	}
	if err := l.Wait(context.Background(), "acct", zoom.Label("Enormous")); zoom.KindOf(err) != zoom.Rejected {
		t.Fatalf("unknown label: %v", err)
	}
	// Errors that retrying will not cure are returned at once, wrapped
	// (TestThrottledTableRecovers has those it will).
	tests := []struct {
		name string
		err  error
	}{
		{"no such table", opError(httpStatus(400, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}))},
		{"validation", opError(httpStatus(400, &smithy.GenericAPIError{Code: "ValidationException", Message: "The provided key element does not match the schema"}))},
		{"unclassified", errors.New("something else")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at.err = tt.err
			before := len(at.keys)
			err := l.Wait(context.Background(), "acct", zoom.Light)
			if err == nil || zoom.KindOf(err) != zoom.Unknown || !errors.Is(err, tt.err) {
				t.Fatalf("table failure: %v; want the DynamoDB error, wrapped", err)
			}
			if n := len(at.keys) - before; n != 1 {
				t.Fatalf("%d UpdateItem calls; want 1 (no retry)", n)
			}
		})
	}
}
