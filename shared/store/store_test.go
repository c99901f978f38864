package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// spyDB counts calls and can hand back unprocessed items once, as real
// DynamoDB does under load (moto never does).
type spyDB struct {
	DB
	mu               sync.Mutex
	transactSizes    []int
	batchWriteSizes  []int
	failFirstBatches bool
	batchGetCalls    int
	batchWriteCalls  int
}

func (s *spyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	s.mu.Lock()
	s.transactSizes = append(s.transactSizes, len(in.TransactItems))
	s.mu.Unlock()
	return s.DB.TransactWriteItems(ctx, in, opts...)
}

func (s *spyDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	s.mu.Lock()
	s.batchWriteCalls++
	first := s.batchWriteCalls == 1
	for _, reqs := range in.RequestItems {
		s.batchWriteSizes = append(s.batchWriteSizes, len(reqs))
	}
	s.mu.Unlock()
	if first && s.failFirstBatches {
		// Process nothing; hand everything back as unprocessed.
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}
	return s.DB.BatchWriteItem(ctx, in, opts...)
}

func (s *spyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	s.mu.Lock()
	s.batchGetCalls++
	first := s.batchGetCalls == 1
	s.mu.Unlock()
	for _, ka := range in.RequestItems {
		if len(ka.Keys) > maxBatchGet {
			return nil, fmt.Errorf("spy: %d keys in one BatchGetItem, DynamoDB allows %d", len(ka.Keys), maxBatchGet)
		}
	}
	if first && s.failFirstBatches {
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}
	return s.DB.BatchGetItem(ctx, in, opts...)
}

func newStore(t *testing.T) (*Store, *spyDB) {
	t.Helper()
	client, table := emulatortest.NewTable(t)
	spy := &spyDB{DB: client}
	s := New(spy, table)
	s.backoff = func(int) time.Duration { return time.Millisecond }
	return s, spy
}

func pending(customer, provider, n string) domain.Number {
	return domain.Number{CustomerID: customer, Number: n, Status: domain.PendingApproval, ProviderID: provider, RequestID: "r1"}
}

func TestApplyRecordsHistory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	created, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754571"), Actor: "provider:pxc", Why: "asked"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Version != 1 || created.RequestedAt.IsZero() {
		t.Fatalf("created = %+v", created)
	}
	next := created
	next.Status = domain.Releasing
	if _, err := s.Apply(ctx, domain.Change{Prev: created, Next: next, Actor: "customer:acme/alice", Why: "approved"}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	got, err := s.GetNumber(ctx, "acme", "+97239754571")
	if err != nil || got.Status != domain.Releasing || got.Version != 2 {
		t.Fatalf("GetNumber = %+v, %v", got, err)
	}
	hist, err := s.History(ctx, "acme", "+97239754571")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{" → PENDING_APPROVAL by provider:pxc", "PENDING_APPROVAL → RELEASING by customer:acme/alice"}
	var gotH []string
	for _, h := range hist {
		gotH = append(gotH, fmt.Sprintf("%s → %s by %s", h.From, h.To, h.Actor))
	}
	if fmt.Sprint(gotH) != fmt.Sprint(want) {
		t.Fatalf("history = %q; want %q", gotH, want)
	}
}

func TestStaleUpdateIsRefused(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	v1, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754569"), Actor: "provider:pxc", Why: "asked"})
	if err != nil {
		t.Fatal(err)
	}
	// Writer A approves from v1.
	approved := v1
	approved.Status = domain.Releasing
	if _, err := s.Apply(ctx, domain.Change{Prev: v1, Next: approved, Actor: "customer:acme/a", Why: "approved"}); err != nil {
		t.Fatal(err)
	}
	// Writer B still holds v1 and tries to reject: refused, nothing written.
	rejected := v1
	rejected.Status = domain.Rejected
	_, err = s.Apply(ctx, domain.Change{Prev: v1, Next: rejected, Actor: "customer:acme/b", Why: "rejected"})
	var ce *domain.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, domain.ErrConflict) || fmt.Sprint(ce.Numbers) != "[+97239754569]" {
		t.Fatalf("stale write err = %v; want domain.ConflictError naming the number", err)
	}
	got, _ := s.GetNumber(ctx, "acme", "+97239754569")
	hist, _ := s.History(ctx, "acme", "+97239754569")
	if got.Status != domain.Releasing || got.Version != 2 || len(hist) != 2 {
		t.Fatalf("after stale write: status %s v%d, %d history entries; want RELEASING v2, 2", got.Status, got.Version, len(hist))
	}
	// A second create of an existing number is refused the same way.
	if _, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754569"), Actor: "x", Why: "y"}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate create err = %v; want ErrConflict", err)
	}
}

func TestDisallowedTransitionWritesNothing(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	v1, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754571"), Actor: "p", Why: "w"})
	if err != nil {
		t.Fatal(err)
	}
	released := v1
	released.Status = domain.Released
	if _, err := s.Apply(ctx, domain.Change{Prev: v1, Next: released, Actor: "x", Why: "y"}); err == nil {
		t.Fatal("PENDING_APPROVAL → RELEASED was accepted")
	}
	if len(spy.transactSizes) != 1 {
		t.Fatalf("%d transactions; the refused change must not reach DynamoDB", len(spy.transactSizes))
	}
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415555%04d", i)
	}
	return out
}

func TestApplyAllChunksWithinTransactionLimit(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	nums := numbers(130)
	var changes []domain.Change
	for _, n := range nums {
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", n), Actor: "provider:pxc", Why: "asked"})
	}
	written, err := s.ApplyAll(ctx, changes)
	if err != nil || len(written) != 130 {
		t.Fatalf("ApplyAll = %d, %v", len(written), err)
	}
	for _, size := range spy.transactSizes {
		if size > maxTransactItems {
			t.Fatalf("a transaction had %d items; DynamoDB allows %d", size, maxTransactItems)
		}
	}
	// 390 items: each number with its history entry and its request's
	// member item, three per number, so 33 numbers to a transaction.
	if len(spy.transactSizes) != 4 {
		t.Fatalf("transactions = %v; want 4", spy.transactSizes)
	}
	spy.failFirstBatches = true
	got, err := s.GetNumbers(ctx, "acme", append(nums, "+14155559999"))
	if err != nil || len(got) != 130 {
		t.Fatalf("GetNumbers = %d, %v; want 130 (unknown number absent, unprocessed keys retried)", len(got), err)
	}

	// A conflicting chunk names its numbers and writes none of them.
	stale := []domain.Change{{Next: pending("acme", "pxc", "+14155550007"), Actor: "p", Why: "again"}}
	_, err = s.ApplyAll(ctx, stale)
	var ce *domain.ConflictError
	if !errors.As(err, &ce) || fmt.Sprint(ce.Numbers) != "[+14155550007]" {
		t.Fatalf("conflict err = %v", err)
	}
}

// TestApplyEachGoesOnPastConflicts: changes written in batches each stand on
// their own: a number that moved meanwhile gets its conflict, and the others
// of its transaction are written anyway (in one more transaction).
func TestApplyEachGoesOnPastConflicts(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	nums := numbers(60)
	var creates []domain.Change
	for _, n := range nums {
		creates = append(creates, domain.Change{Next: pending("acme", "pxc", n), Actor: "provider:pxc", Why: "asked"})
	}
	created, errs := s.ApplyEach(ctx, creates)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %s: %v", nums[i], err)
		}
	}
	// Someone else rejects two of them; then all 60 are approved from the
	// versions read before.
	moved := map[string]bool{nums[7]: true, nums[55]: true}
	var approvals []domain.Change
	for _, cur := range created {
		next := cur
		next.Status = domain.Releasing
		approvals = append(approvals, domain.Change{Prev: cur, Next: next, Actor: "customer:acme/a", Why: "approved"})
		if moved[cur.Number] {
			rejected := cur
			rejected.Status = domain.Rejected
			if _, err := s.Apply(ctx, domain.Change{Prev: cur, Next: rejected, Actor: "customer:acme/b", Why: "rejected"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	spy.transactSizes = nil
	written, errs := s.ApplyEach(ctx, approvals)
	for i, n := range nums {
		got, _ := s.GetNumber(ctx, "acme", n)
		switch {
		case moved[n]:
			if !errors.Is(errs[i], domain.ErrConflict) || got.Status != domain.Rejected {
				t.Fatalf("%s: err %v, status %s; want a conflict and REJECTED kept", n, errs[i], got.Status)
			}
		case errs[i] != nil || written[i].Status != domain.Releasing || got.Status != domain.Releasing || got.Transitions != 2:
			t.Fatalf("%s: err %v, written %s, stored %s after %d transitions; want RELEASING after 2", n, errs[i], written[i].Status, got.Status, got.Transitions)
		}
	}
	// 120 items: 100 + 20, each refused once, then sent without its moved
	// number.
	if fmt.Sprint(spy.transactSizes) != "[100 98 20 18]" {
		t.Fatalf("transactions %v; want [100 98 20 18]", spy.transactSizes)
	}
}

// TestHistoryIsNumberedWithoutGaps: writes that keep the status (a new task
// token, a message) change the number's version but add no history entry,
// and the entries are numbered 1, 2, 3, ....
func TestHistoryIsNumberedWithoutGaps(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	cur, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754571"), Actor: "p", Why: "asked"})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		status domain.Status
		token  string
	}{{domain.Releasing, ""}, {domain.WaitingForUnassign, "tok-1"}, {domain.WaitingForUnassign, "tok-2"}, {domain.WaitingForUnassign, "tok-3"}, {domain.Releasing, ""}} {
		next := cur
		next.Status, next.TaskToken = step.status, step.token
		if cur, err = s.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "w", Why: "step"}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.History(ctx, "acme", "+97239754571")
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, h := range hist {
		versions = append(versions, h.Version)
	}
	if fmt.Sprint(versions) != "[1 2 3 4]" || cur.Version != 6 || cur.Transitions != 4 {
		t.Fatalf("history versions %v, number version %d, transitions %d; want [1 2 3 4], 6, 4", versions, cur.Version, cur.Transitions)
	}
}

func TestListNumbers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var changes []domain.Change
	for _, n := range numbers(120) {
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", n), Actor: "p", Why: "w"})
	}
	changes = append(changes,
		domain.Change{Next: pending("acme", "other", "+14155559001"), Actor: "p", Why: "w"},
		domain.Change{Next: pending("globex", "pxc", "+14155559002"), Actor: "p", Why: "w"})
	written, err := s.ApplyAll(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	// Walk one number to RELEASED and one to REJECTED.
	walk := func(n domain.Number, to ...domain.Status) {
		for _, st := range to {
			next := n
			next.Status = st
			if n, err = s.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "t", Why: "t"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	walk(written[0], domain.Releasing, domain.Released)
	walk(written[1], domain.Rejected)

	collect := func(q domain.ListQuery) []string {
		t.Helper()
		var all []string
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("cursor does not end")
			}
			p, err := s.ListNumbers(ctx, q)
			if err != nil {
				t.Fatalf("ListNumbers(%+v): %v", q, err)
			}
			if len(p.Items) > max(q.Limit, 1) && q.Limit > 0 {
				t.Fatalf("page of %d items; limit %d", len(p.Items), q.Limit)
			}
			for _, n := range p.Items {
				all = append(all, n.Number)
			}
			if p.NextCursor == "" {
				return all
			}
			q.Cursor = p.NextCursor
		}
	}
	tests := []struct {
		name  string
		q     domain.ListQuery
		count int
	}{
		{"customer, active only (released hidden)", domain.ListQuery{CustomerID: "acme", Limit: 50}, 120},
		{"customer, pending approval", domain.ListQuery{CustomerID: "acme", Status: domain.PendingApproval, Limit: 50}, 119},
		{"customer, released", domain.ListQuery{CustomerID: "acme", Status: domain.Released}, 1},
		{"customer, rejected", domain.ListQuery{CustomerID: "acme", Status: domain.Rejected}, 1},
		{"provider view: only its own requests", domain.ListQuery{CustomerID: "acme", ProviderID: "pxc", Limit: 100}, 119},
		{"other provider", domain.ListQuery{CustomerID: "acme", ProviderID: "other"}, 1},
		{"other customer", domain.ListQuery{CustomerID: "globex"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(tt.q)
			if len(got) != tt.count {
				t.Fatalf("listed %d numbers; want %d", len(got), tt.count)
			}
			sorted := append([]string(nil), got...)
			sort.Strings(sorted)
			for i := 1; i < len(sorted); i++ {
				if sorted[i] == sorted[i-1] {
					t.Fatalf("%s listed twice across pages", sorted[i])
				}
			}
		})
	}

	t.Run("cursor of another customer is refused", func(t *testing.T) {
		p, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", Limit: 1})
		if err != nil || p.NextCursor == "" {
			t.Fatalf("first page: %v", err)
		}
		for _, q := range []domain.ListQuery{
			{CustomerID: "globex", Cursor: p.NextCursor},
			{CustomerID: "acme", ProviderID: "pxc", Cursor: p.NextCursor},
			{CustomerID: "acme", Cursor: "not-a-cursor"},
		} {
			if _, err := s.ListNumbers(ctx, q); !errors.Is(err, domain.ErrBadCursor) {
				t.Errorf("ListNumbers(%+v) err = %v; want ErrBadCursor", q, err)
			}
		}
	})
}

func TestTenantsAndLinks(t *testing.T) {
	s, spy := newStore(t)
	spy.failFirstBatches = true
	ctx := context.Background()
	var customers []domain.Customer
	var links []domain.Link
	for i := range 30 {
		id := fmt.Sprintf("cust-%02d", i)
		customers = append(customers, domain.Customer{ID: id, Name: id, ZoomAccountID: "zoom-" + id})
		links = append(links, domain.Link{ProviderID: "pxc", CustomerID: id})
	}
	if err := s.PutTenants(ctx, customers, links); err != nil {
		t.Fatal(err)
	}
	for _, size := range spy.batchWriteSizes {
		if size > maxBatchWrite {
			t.Fatalf("batch of %d writes; DynamoDB allows %d", size, maxBatchWrite)
		}
	}
	tests := []struct {
		provider, customer string
		want               bool
	}{
		{"pxc", "cust-29", true},
		{"pxc", "cust-30", false},
		{"other", "cust-00", false},
	}
	for _, tt := range tests {
		got, err := s.IsLinked(ctx, tt.provider, tt.customer)
		if err != nil || got != tt.want {
			t.Errorf("IsLinked(%s, %s) = %v, %v; want %v", tt.provider, tt.customer, got, err, tt.want)
		}
	}
	if c, err := s.CustomerByZoomAccount(ctx, "zoom-cust-07"); err != nil || c.ID != "cust-07" {
		t.Errorf("CustomerByZoomAccount = %+v, %v", c, err)
	}
	if c, err := s.GetCustomer(ctx, "cust-08"); err != nil || c.ZoomAccountID != "zoom-cust-08" {
		t.Errorf("GetCustomer = %+v, %v", c, err)
	}
	if _, err := s.CustomerByZoomAccount(ctx, "zoom-unknown"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("unknown zoom account err = %v", err)
	}
}

func TestInFlightBefore(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	var changes []domain.Change
	for _, n := range numbers(40) {
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", n), Actor: "p", Why: "w"})
	}
	written, err := s.ApplyAll(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	// 30 numbers go RELEASING at 10:00; 10 of them wait from 10:05; 5 stay pending.
	for i, n := range written[:35] {
		next := n
		next.Status = domain.Releasing
		if i >= 30 {
			next.Status = domain.Rejected
		}
		if written[i], err = s.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "c", Why: "w"}); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(5 * time.Minute)
	for i := 20; i < 30; i++ {
		next := written[i]
		next.Status = domain.WaitingForUnassign
		if written[i], err = s.Apply(ctx, domain.Change{Prev: written[i], Next: next, Actor: "w", Why: "w"}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(cutoff time.Time) int {
		seen := map[string]bool{}
		if err := s.InFlightBefore(ctx, cutoff, func(n domain.Number) error {
			if n.Status != domain.Releasing && n.Status != domain.WaitingForUnassign {
				t.Fatalf("%s is %s: not in flight", n.Number, n.Status)
			}
			seen[n.Number] = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return len(seen)
	}
	tests := []struct {
		cutoff time.Time
		want   int
	}{
		{clock.Add(-10 * time.Minute), 0},
		{clock.Add(-time.Minute), 20}, // changed at 10:00 only
		{clock.Add(time.Second), 30},  // all in flight
	}
	for _, tt := range tests {
		if got := count(tt.cutoff); got != tt.want {
			t.Errorf("InFlightBefore(%s) found %d; want %d", tt.cutoff.Format(time.Kitchen), got, tt.want)
		}
	}
	// A released number leaves the index.
	next := written[0]
	next.Status = domain.Released
	if _, err := s.Apply(ctx, domain.Change{Prev: written[0], Next: next, Actor: "w", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	if got := count(clock.Add(time.Hour)); got != 29 {
		t.Errorf("after release: %d in flight; want 29", got)
	}
}

// TestPendingBefore: PENDING_APPROVAL numbers are listed by when they entered
// PENDING_APPROVAL (a same-status write, such as a recorded reminder, keeps
// that time), leave the list when they move on, and a number approved after
// it was read cannot be expired by a write that read it pending.
func TestPendingBefore(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	var changes []domain.Change
	for _, n := range numbers(12) {
		changes = append(changes, domain.Change{Next: pending("acme", "pxc", n), Actor: "p", Why: "w"})
	}
	written, err := s.ApplyAll(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	if !written[0].PendingSince.Equal(clock) {
		t.Fatalf("pending since %s; want %s", written[0].PendingSince, clock)
	}
	clock = clock.Add(time.Hour)
	// A reminder is recorded on 0 an hour later: it keeps its pending time.
	reminded := written[0]
	reminded.Reminders = 1
	if written[0], err = s.Apply(ctx, domain.Change{Prev: written[0], Next: reminded, Actor: "expiry", Why: "reminder"}); err != nil {
		t.Fatal(err)
	}
	if !written[0].PendingSince.Equal(clock.Add(-time.Hour)) || written[0].Reminders != 1 {
		t.Fatalf("after reminder: %+v", written[0])
	}
	// 1 is approved, so it leaves the list; 2 is asked for again later.
	approved := written[1]
	approved.Status = domain.Releasing
	if _, err := s.Apply(ctx, domain.Change{Prev: written[1], Next: approved, Actor: "c", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	cancelled := written[2]
	cancelled.Status = domain.Cancelled
	if written[2], err = s.Apply(ctx, domain.Change{Prev: written[2], Next: cancelled, Actor: "p", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	again := written[2]
	again.Status = domain.PendingApproval
	if written[2], err = s.Apply(ctx, domain.Change{Prev: written[2], Next: again, Actor: "p", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	count := func(cutoff time.Time) int {
		seen := 0
		if err := s.PendingBefore(ctx, cutoff, func(n domain.Number) error {
			if n.Status != domain.PendingApproval {
				t.Fatalf("%s is %s: not pending", n.Number, n.Status)
			}
			seen++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return seen
	}
	tests := []struct {
		cutoff time.Time
		want   int
	}{
		{clock.Add(-2 * time.Hour), 0},
		{clock.Add(-time.Minute), 10}, // pending since 10:00; 1 approved, 2 asked again at 11:00
		{clock.Add(time.Second), 11},
	}
	for _, tt := range tests {
		if got := count(tt.cutoff); got != tt.want {
			t.Errorf("PendingBefore(%s) found %d; want %d", tt.cutoff.Format(time.Kitchen), got, tt.want)
		}
	}
	// Expiring 1 as it was read before its approval is refused.
	expired := written[1]
	expired.Status = domain.Expired
	if _, err := s.Apply(ctx, domain.Change{Prev: written[1], Next: expired, Actor: "expiry", Why: "w"}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("expire an approved number: %v; want a conflict", err)
	}
	got, err := s.GetNumber(ctx, "acme", written[1].Number)
	if err != nil || got.Status != domain.Releasing {
		t.Fatalf("approved number = %+v, %v", got, err)
	}
}
