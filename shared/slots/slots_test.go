package slots

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/table"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fakeTable evaluates the semaphore's two conditional updates on slot items
// kept in memory, atomically, as DynamoDB does; each write takes latency
// (virtual time under synctest). fail, when set, answers a write instead.
type fakeTable struct {
	latency time.Duration
	fail    func(in *dynamodb.UpdateItemInput) error

	mu     sync.Mutex
	items  map[string]fakeSlot
	writes int
	reads  int
}

type fakeSlot struct {
	until int64 // 0: no lease attribute
	owner string
}

var _ API = (*fakeTable)(nil)

// Query returns the partition's slot items with a lease, as a consistent
// read sees them.
func (f *fakeTable) Query(ctx context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	pk := in.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS).Value
	out := &dynamodb.QueryOutput{}
	for key, slot := range f.items {
		p, sk, _ := strings.Cut(key, "/")
		if p != pk || slot.until == 0 {
			continue
		}
		out.Items = append(out.Items, map[string]types.AttributeValue{
			table.AttrSK:   &types.AttributeValueMemberS{Value: sk},
			attrLeaseUntil: &types.AttributeValueMemberN{Value: strconv.FormatInt(slot.until, 10)},
		})
	}
	return out, nil
}

func (f *fakeTable) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	time.Sleep(f.latency)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.fail != nil {
		if err := f.fail(in); err != nil {
			return nil, err
		}
	}
	if f.items == nil {
		f.items = map[string]fakeSlot{}
	}
	key := in.Key[table.AttrPK].(*types.AttributeValueMemberS).Value + "/" + in.Key[table.AttrSK].(*types.AttributeValueMemberS).Value
	cur := f.items[key]
	val := func(name string) string {
		switch v := in.ExpressionAttributeValues[name].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case *types.AttributeValueMemberN:
			return v.Value
		}
		return ""
	}
	refused := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	switch aws.ToString(in.ConditionExpression) {
	case "attribute_not_exists(#until) OR #until < :now":
		now, _ := strconv.ParseInt(val(":now"), 10, 64)
		if cur.until != 0 && cur.until >= now {
			return nil, refused
		}
		until, _ := strconv.ParseInt(val(":until"), 10, 64)
		f.items[key] = fakeSlot{until: until, owner: val(":owner")}
	case "#owner = :owner":
		if cur.owner != val(":owner") {
			return nil, refused
		}
		if strings.HasPrefix(aws.ToString(in.UpdateExpression), "SET") { // a renewal
			until, _ := strconv.ParseInt(val(":until"), 10, 64)
			f.items[key] = fakeSlot{until: until, owner: cur.owner}
			break
		}
		f.items[key] = fakeSlot{}
	default:
		return nil, fmt.Errorf("fake table: unexpected condition %q", aws.ToString(in.ConditionExpression))
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeTable) held() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.items {
		if s.until != 0 {
			n++
		}
	}
	return n
}

func newSemaphore(t *testing.T, client API, tableName string, size int) *Semaphore {
	t.Helper()
	s, err := New(Config{Client: client, Table: tableName, Name: "release-tasks", Size: size, Lease: 45 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// contend runs acquirers concurrently; it returns the releases of the
// winners and the errors of the others.
func contend(s *Semaphore, acquirers int) (won []func(context.Context) error, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range acquirers {
		wg.Go(func() {
			release, err := acquire(s, context.Background())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			won = append(won, release)
		})
	}
	wg.Wait()
	return won, errs
}

// TestAcquireCapsHolders: of 5N concurrent acquirers exactly N hold a slot;
// the others are refused with ErrBusy at once, after one read and at most
// one try of each slot it found free, however slow the table (never a
// wait).
func TestAcquireCapsHolders(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		latency time.Duration
	}{
		{"one slot", 1, 0},
		{"ten slots", 10, 0},
		{"ten slots, slow table", 10, 50 * time.Millisecond},
		{"a hundred slots", 100, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeTable{latency: tt.latency}
				s := newSemaphore(t, f, "t", tt.size)
				start := time.Now()
				won, errs := contend(s, 5*tt.size)
				if len(won) != tt.size || f.held() != tt.size {
					t.Fatalf("%d acquired, %d slots held; want %d", len(won), f.held(), tt.size)
				}
				for _, err := range errs {
					if !errors.Is(err, ErrBusy) {
						t.Fatalf("refused with %v, want ErrBusy", err)
					}
				}
				// Each acquirer reads once, then writes at most once per
				// slot, one after the other: no wait beyond that.
				if took, most := time.Since(start), time.Duration(1+tt.size)*tt.latency; took > most {
					t.Errorf("the refused acquirers answered after %s, want at most %s (one read, one write per slot, no waiting)", took, most)
				}
				if most := 5 * tt.size * tt.size; f.writes > most {
					t.Errorf("%d writes, want at most %d (each acquirer tries each slot once)", f.writes, most)
				}
			})
		})
	}
}

// TestBusyCostsOneRead: when every slot is leased, an acquisition reads
// the semaphore once and writes nothing (hundreds of waiting releases
// retrying must not each cost N writes).
func TestBusyCostsOneRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeTable{}
		s := newSemaphore(t, f, "t", 10)
		for range 10 {
			if _, err := acquire(s, context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		writes, reads := f.writes, f.reads
		for range 20 {
			if _, err := acquire(s, context.Background()); !errors.Is(err, ErrBusy) {
				t.Fatalf("acquire with every slot leased = %v; want ErrBusy", err)
			}
		}
		if w, r := f.writes-writes, f.reads-reads; w != 0 || r != 20 {
			t.Fatalf("20 refused acquisitions made %d writes and %d reads; want 0 and 20", w, r)
		}
	})
}

// TestReleaseAndExpiry: a released slot is taken again; a lease that ended
// is taken over (not before); a release by a caller whose lease was taken
// over leaves the new holder's slot alone.
func TestReleaseAndExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newSemaphore(t, &fakeTable{}, "t", 2)
		held, _ := contend(s, 2)
		if len(held) != 2 {
			t.Fatalf("%d of 2 acquired", len(held))
		}
		if _, err := acquire(s, ctx); !errors.Is(err, ErrBusy) {
			t.Fatalf("third Acquire = %v, want ErrBusy", err)
		}
		if err := held[0](ctx); err != nil {
			t.Fatalf("release: %v", err)
		}
		if _, err := acquire(s, ctx); err != nil {
			t.Fatalf("Acquire after a release: %v", err)
		}

		// One slot, held by a crashed invocation that never releases it.
		one := newSemaphore(t, &fakeTable{}, "t", 1)
		crashed, err := acquire(one, ctx)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(44 * time.Second)
		if _, err := acquire(one, ctx); !errors.Is(err, ErrBusy) {
			t.Fatalf("Acquire before the lease ended = %v, want ErrBusy", err)
		}
		time.Sleep(2 * time.Second)
		takeover, err := acquire(one, ctx)
		if err != nil {
			t.Fatalf("Acquire after the lease ended: %v", err)
		}
		// The crashed holder's late release does nothing: the new holder
		// keeps the slot.
		if err := crashed(ctx); !errors.Is(err, ErrNotHeld) {
			t.Errorf("late release = %v, want ErrNotHeld", err)
		}
		if _, err := acquire(one, ctx); !errors.Is(err, ErrBusy) {
			t.Errorf("Acquire after a non-owner's release = %v, want ErrBusy (the release freed the new holder's slot)", err)
		}
		if err := takeover(ctx); err != nil {
			t.Errorf("the new holder's release: %v", err)
		}
		if _, err := acquire(one, ctx); err != nil {
			t.Errorf("Acquire after the new holder's release: %v", err)
		}
	})
}

// TestReleaseOutlivesTheCallersContext: an invocation whose context ended
// (its deadline) still frees its slot.
func TestReleaseOutlivesTheCallersContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeTable{}
		s := newSemaphore(t, f, "t", 1)
		ctx, cancel := context.WithCancel(context.Background())
		release, err := acquire(s, ctx)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := release(ctx); err != nil {
			t.Fatalf("release after the context ended: %v", err)
		}
		if f.held() != 0 {
			t.Error("the slot is still held")
		}
	})
}

// TestTableErrors: a table error on acquire is returned as such (not
// ErrBusy), naming the slot, so the caller reports the table unavailable.
func TestTableErrors(t *testing.T) {
	throttled := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	tests := []struct {
		name string
		fail func(in *dynamodb.UpdateItemInput) error
	}{
		{"every write throttled", func(*dynamodb.UpdateItemInput) error { return throttled }},
		{"a write fails after a refusal", func() func(*dynamodb.UpdateItemInput) error {
			n := 0
			return func(*dynamodb.UpdateItemInput) error {
				if n++; n == 1 {
					return &types.ConditionalCheckFailedException{Message: aws.String("held")}
				}
				return throttled
			}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSemaphore(t, &fakeTable{fail: tt.fail}, "t", 3)
			_, err := acquire(s, context.Background())
			var pte *types.ProvisionedThroughputExceededException
			if errors.Is(err, ErrBusy) || !errors.As(err, &pte) {
				t.Fatalf("Acquire = %v, want the table's error", err)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	f := &fakeTable{}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no size", Config{Client: f, Table: "t", Name: "n", Lease: time.Minute}, "size 0"},
		{"too many", Config{Client: f, Table: "t", Name: "n", Size: MaxSize + 1, Lease: time.Minute}, "size 1001"},
		{"no lease", Config{Client: f, Table: "t", Name: "n", Size: 1}, "lease 0s"},
		{"no table", Config{Client: f, Name: "n", Size: 1, Lease: time.Minute}, "Table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestOnTheEmulator runs the semaphore against moto's DynamoDB (real
// conditional writes on the project's table): of 5N concurrent acquirers
// exactly N win and the others are refused with ErrBusy; a released slot
// is taken again; a lease that ended is taken over, and the old holder's
// release leaves it alone.
func TestOnTheEmulator(t *testing.T) {
	client, name := emulatortest.NewTable(t)
	ctx := context.Background()
	const size = 4
	s := newSemaphore(t, client, name, size)
	won, errs := contend(s, 5*size)
	if len(won) != size {
		t.Fatalf("%d acquired, want %d (errors: %v)", len(won), size, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("refused with %v, want ErrBusy", err)
		}
	}
	if err := won[0](ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := acquire(s, ctx); err != nil {
		t.Fatalf("Acquire after a release: %v", err)
	}
	if _, err := acquire(s, ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("Acquire with every slot held = %v, want ErrBusy", err)
	}

	// A clock past every lease: each slot is taken over, and the old
	// holders' releases do nothing.
	late := time.Now().Add(time.Minute)
	later, err := New(Config{Client: client, Table: name, Name: "release-tasks", Size: size, Lease: 45 * time.Second,
		Now: func() time.Time { return late }})
	if err != nil {
		t.Fatal(err)
	}
	taken, errs := contend(later, size)
	if len(taken) != size {
		t.Fatalf("%d expired slots taken over, want %d (errors: %v)", len(taken), size, errs)
	}
	for _, release := range won[1:] {
		if err := release(ctx); !errors.Is(err, ErrNotHeld) {
			t.Errorf("old holder's release = %v, want ErrNotHeld", err)
		}
	}
	if _, err := acquire(later, ctx); !errors.Is(err, ErrBusy) {
		t.Errorf("Acquire after the old holders' releases = %v, want ErrBusy (they freed the new holders' slots)", err)
	}
	// The items are where the IAM policy lets release-tasks write.
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(name), Key: Key("release-tasks", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if pk := out.Item[table.AttrPK].(*types.AttributeValueMemberS).Value; pk != "SLOT#release-tasks" {
		t.Errorf("slot item PK %q, want SLOT#release-tasks", pk)
	}
}

// acquire takes a slot and returns the function that gives it back.
func acquire(s *Semaphore, ctx context.Context) (func(context.Context) error, error) {
	l, err := s.Take(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return s.Release(ctx, l) }, nil
}
