package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/domain"
)

// backfillDB counts the backfill's calls; a test may act before the first
// Scan (beforeScan) or, after the first Scan page that found numbers to
// fix, change one before the backfill writes it (afterScan).
type backfillDB struct {
	DB
	mu         sync.Mutex
	scans      int
	gets       int
	beforeScan func()
	afterScan  func(found []string)
	// failPut, when it returns an error, fails that PutItem.
	failPut func(in *dynamodb.PutItemInput) error
}

func (b *backfillDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if b.failPut != nil {
		if err := b.failPut(in); err != nil {
			return nil, err
		}
	}
	return b.DB.PutItem(ctx, in, opts...)
}

func (b *backfillDB) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	b.mu.Lock()
	b.scans++
	b.mu.Unlock()
	if hook := b.beforeScan; hook != nil {
		b.beforeScan = nil
		hook()
	}
	out, err := b.DB.Scan(ctx, in, opts...)
	if err == nil && len(out.Items) > 0 && b.afterScan != nil {
		var found []string
		for _, raw := range out.Items {
			var it numberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, err
			}
			found = append(found, it.Number)
		}
		hook := b.afterScan
		b.afterScan = nil
		hook(found)
	}
	return out, err
}

func (b *backfillDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	b.mu.Lock()
	b.gets++
	b.mu.Unlock()
	return b.DB.GetItem(ctx, in, opts...)
}

func (b *backfillDB) counts() (scans, gets int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.scans, b.gets
}

// putOldStyle writes n as the store wrote a pending number before the
// pending keys existed: no pending_since, no InFlight keys.
func putOldStyle(t *testing.T, s *Store, n domain.Number) {
	t.Helper()
	av, err := attributevalue.MarshalMap(numberItemOf(n))
	if err != nil {
		t.Fatal(err)
	}
	delete(av, "pending_since")
	delete(av, "GSI3PK")
	delete(av, "GSI3SK")
	if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av}); err != nil {
		t.Fatal(err)
	}
}

// TestBackfillPending: numbers an older release left PENDING_APPROVAL
// without their keys are listed by PendingBefore after the backfill, by
// when they became pending (updated_at); a number approved between the
// backfill's Scan and its write stays approved; the marker ends done, and a
// done backfill reads one item and scans nothing.
func TestBackfillPending(t *testing.T) {
	s, spy := newStore(t)
	db := &backfillDB{DB: spy}
	s.db = db
	ctx := context.Background()
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }

	// Three numbers written by this release: they carry their keys.
	var changes []domain.Change
	for _, n := range numbers(3) {
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", n), Actor: "p", Why: "w"})
	}
	if _, err := s.ApplyAll(ctx, changes); err != nil {
		t.Fatal(err)
	}
	// Eight by an older one, pending since k hours before, and one
	// RELEASING: not the backfill's.
	old := map[string]domain.Number{}
	for k := 1; k <= 8; k++ {
		n := domain.Number{CustomerID: "globex", Number: fmt.Sprintf("+9723900000%d", k), Status: domain.PendingApproval,
			ProviderID: "pxc", RequestID: "r0", RequestedAt: clock.Add(-48 * time.Hour),
			UpdatedAt: clock.Add(-time.Duration(k) * time.Hour), Version: 1, Transitions: 1}
		putOldStyle(t, s, n)
		old[n.Number] = n
	}
	putOldStyle(t, s, domain.Number{CustomerID: "globex", Number: "+97239000009", Status: domain.Releasing, ProviderID: "pxc",
		RequestID: "r0", RequestedAt: clock, UpdatedAt: clock, Version: 2, Transitions: 2, Attempt: 1})

	// The first number the backfill finds is approved before it writes.
	var approved string
	db.afterScan = func(found []string) {
		approved = found[0]
		cur, err := s.GetNumber(ctx, "globex", approved)
		if err != nil {
			t.Fatal(err)
		}
		next := cur
		next.Status = domain.Releasing
		if _, err := s.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "customer:globex/gina", Why: "approved"}); err != nil {
			t.Fatal(err)
		}
	}

	var total BackfillResult
	calls := 0
	for ; calls < 100 && !total.Done; calls++ {
		res, err := s.BackfillPending(ctx, BackfillLimits{Pages: 2, PageSize: 3})
		if err != nil {
			t.Fatalf("call %d: %v", calls+1, err)
		}
		total.Fixed += res.Fixed
		total.Skipped += res.Skipped
		total.Done = res.Done
	}
	if !total.Done || calls < 4 || total.Fixed != 7 || total.Skipped != 1 {
		t.Fatalf("after %d calls: %+v; want done after several, 7 fixed, 1 skipped", calls, total)
	}

	listed := map[string]domain.Number{}
	if err := s.PendingBefore(ctx, clock.Add(time.Second), func(n domain.Number) error {
		listed[n.Number] = n
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 3+7 {
		t.Errorf("PendingBefore lists %d numbers; want 10", len(listed))
	}
	for num, want := range old {
		got, ok := listed[num]
		if num == approved {
			if ok {
				t.Errorf("%s, approved meanwhile, is listed pending", num)
			}
			continue
		}
		if !ok {
			t.Errorf("%s is not listed", num)
			continue
		}
		if !got.PendingSince.Equal(want.UpdatedAt) || got.Version != want.Version || got.Status != domain.PendingApproval {
			t.Errorf("%s: pending since %s, version %d, %s; want since %s, version %d", num, got.PendingSince, got.Version, got.Status, want.UpdatedAt, want.Version)
		}
	}
	if got, err := s.GetNumber(ctx, "globex", approved); err != nil || got.Status != domain.Releasing || got.Version != 2 {
		t.Errorf("the number approved meanwhile = %+v, %v; want RELEASING, version 2", got, err)
	}

	m, err := s.backfillMarker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The first pass fixed numbers, so a second one made sure.
	if !m.Done || m.DoneAt == nil || m.Fixed != 7 || m.Pass != 2 || m.CursorPK != "" {
		t.Errorf("marker %+v; want done in pass 2, 7 fixed, no position", m)
	}

	scans, gets := db.counts()
	res, err := s.BackfillPending(ctx, BackfillLimits{Pages: 2, PageSize: 3})
	scans2, gets2 := db.counts()
	if err != nil || res != (BackfillResult{Done: true}) || scans2 != scans || gets2 != gets+1 {
		t.Errorf("a call when done = %+v, %v, %d scans, %d gets; want done, no Scan, one GetItem", res, err, scans2-scans, gets2-gets)
	}
}

// A table with nothing to fix is done after one pass.
func TestBackfillPendingNothingToFix(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754561"), Actor: "p", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	res, err := s.BackfillPending(ctx, BackfillLimits{Pages: 10})
	if err != nil || res.Fixed != 0 || !res.Done || res.Pages != 1 {
		t.Fatalf("BackfillPending = %+v, %v; want done in one page, nothing fixed", res, err)
	}
}

// A call stops at its time budget (here: one page, the clock moving a
// minute a read) and the next goes on from there.
func TestBackfillPendingStopsAtItsBudget(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	clock := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	for k := 1; k <= 3; k++ {
		putOldStyle(t, s, domain.Number{CustomerID: "globex", Number: fmt.Sprintf("+9723900000%d", k), Status: domain.PendingApproval,
			ProviderID: "pxc", RequestID: "r0", RequestedAt: clock, UpdatedAt: clock, Version: 1, Transitions: 1})
	}
	lim := BackfillLimits{Pages: 10, PageSize: 1, Budget: 30 * time.Second}
	fixed, calls := 0, 0
	for done := false; !done && calls < 20; calls++ {
		res, err := s.BackfillPending(ctx, lim)
		if err != nil || res.Pages != 1 {
			t.Fatalf("call %d = %+v, %v; want one page", calls+1, res, err)
		}
		fixed, done = fixed+res.Fixed, res.Done
	}
	if fixed != 3 || calls < 3 {
		t.Errorf("%d calls of one page fixed %d; want the 3 numbers, one page a call", calls, fixed)
	}
}

// Two calls at once cannot move the marker back: the one whose write of
// the marker is refused ends, and the marker keeps the other's position.
func TestBackfillPendingConcurrentCalls(t *testing.T) {
	s, spy := newStore(t)
	db := &backfillDB{DB: spy}
	s.db = db
	ctx := context.Background()
	for k := 1; k <= 4; k++ {
		putOldStyle(t, s, domain.Number{CustomerID: "globex", Number: fmt.Sprintf("+9723900000%d", k), Status: domain.PendingApproval,
			ProviderID: "pxc", RequestID: "r0", RequestedAt: s.now(), UpdatedAt: s.now(), Version: 1, Transitions: 1})
	}
	other := New(spy, s.table)
	lim := BackfillLimits{Pages: 10, PageSize: 1}
	var otherRes BackfillResult
	db.beforeScan = func() {
		var err error
		if otherRes, err = other.BackfillPending(ctx, BackfillLimits{Pages: 2, PageSize: 1}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.BackfillPending(ctx, lim)
	if err != nil || res.Pages != 1 {
		t.Fatalf("the refused call = %+v, %v; want it to end after its page", res, err)
	}
	m, err := s.backfillMarker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != otherRes.Pages || m.CursorPK == "" {
		t.Errorf("marker %+v; want the other call's %d writes and its position", m, otherRes.Pages)
	}
}

// A write that fails ends the call with the error; the numbers the page
// fixed before it still count, so the pass is followed by another.
func TestBackfillPendingWriteFails(t *testing.T) {
	s, spy := newStore(t)
	db := &backfillDB{DB: spy}
	s.db = db
	ctx := context.Background()
	for k := 1; k <= 4; k++ {
		putOldStyle(t, s, domain.Number{CustomerID: "globex", Number: fmt.Sprintf("+9723900000%d", k), Status: domain.PendingApproval,
			ProviderID: "pxc", RequestID: "r0", RequestedAt: s.now(), UpdatedAt: s.now(), Version: 1, Transitions: 1})
	}
	writes := 0
	db.failPut = func(in *dynamodb.PutItemInput) error {
		if _, ok := in.Item["GSI3PK"]; !ok {
			return nil // the marker
		}
		if writes++; writes == 2 {
			return errors.New("throttled")
		}
		return nil
	}
	res, err := s.BackfillPending(ctx, BackfillLimits{Pages: 1})
	if err == nil || !strings.Contains(err.Error(), "throttled") || res.Fixed != 1 {
		t.Fatalf("BackfillPending = %+v, %v; want 1 fixed, then the error", res, err)
	}
	m, err := s.backfillMarker(ctx)
	if err != nil || m.PassFixed != 1 || m.CursorPK != "" || m.Done {
		t.Fatalf("marker %+v, %v; want 1 fixed in this pass, still at its start", m, err)
	}
	fixed := res.Fixed
	for calls := 0; calls < 10 && !m.Done; calls++ {
		if res, err = s.BackfillPending(ctx, BackfillLimits{Pages: 1}); err != nil {
			t.Fatal(err)
		}
		fixed += res.Fixed
		if m, err = s.backfillMarker(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !m.Done || m.Pass != 2 || fixed != 4 || m.Fixed != 4 {
		t.Errorf("marker %+v, %d fixed; want done in pass 2, all 4 fixed", m, fixed)
	}
}
