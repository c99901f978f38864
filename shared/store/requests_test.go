package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/table"
)

// newRequest records a request of provider at customer for nums, as the
// service does.
func newRequest(t *testing.T, s *Store, r domain.Request, nums []string) []domain.Number {
	t.Helper()
	var changes []domain.Change
	for _, n := range nums {
		next := pending(r.CustomerID, r.ProviderID, n)
		next.RequestID = r.ID
		changes = append(changes, domain.Change{Next: next, Actor: "provider:" + r.ProviderID, Why: "asked"})
	}
	written, err := s.ApplyRequest(context.Background(), r, changes)
	if err != nil {
		t.Fatalf("ApplyRequest %s: %v", r.ID, err)
	}
	return written
}

// move changes one number's status, re-reading and retrying when another
// writer got there first; it gives up (false) when the number is no longer
// where from says.
func move(ctx context.Context, s *Store, customer, n string, from, to domain.Status) (bool, error) {
	for {
		cur, err := s.GetNumber(ctx, customer, n)
		if err != nil {
			return false, err
		}
		if cur.Status != from {
			return false, nil
		}
		next := cur
		next.Status = to
		_, err = s.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "test", Why: "moved"})
		if errors.Is(err, domain.ErrConflict) {
			continue
		}
		return err == nil, err
	}
}

// TestRequestCountsUnderConcurrentChanges moves a request's numbers from
// many goroutines at once, two racing for each number (one approves it,
// one cancels it), and checks the request's numbers (its counts) against
// the numbers' own states: they agree exactly, whatever won each race.
func TestRequestCountsUnderConcurrentChanges(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	r := domain.Request{ID: "req-race", ProviderID: "pxc", CustomerID: "acme", Reason: "end of contract"}
	nums := numbers(80)
	newRequest(t, s, r, nums)
	for _, size := range spy.transactSizes {
		if size > maxTransactItems {
			t.Fatalf("a transaction had %d items; DynamoDB allows %d", size, maxTransactItems)
		}
	}
	// 80 numbers × 3 items + the request's item: 3 transactions.
	if len(spy.transactSizes) != 3 || spy.transactSizes[0] != 100 {
		t.Fatalf("transactions = %v; want [100 99 42]", spy.transactSizes)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 3*len(nums))
	for i, n := range nums {
		wg.Add(2)
		go func() { // the customer approves, and the release goes on
			defer wg.Done()
			moved, err := move(ctx, s, "acme", n, domain.PendingApproval, domain.Releasing)
			if err == nil && moved && i%2 == 0 {
				_, err = move(ctx, s, "acme", n, domain.Releasing, domain.Released)
			}
			if err != nil {
				errs <- fmt.Errorf("approve %s: %w", n, err)
			}
		}()
		go func() { // the provider cancels
			defer wg.Done()
			if _, err := move(ctx, s, "acme", n, domain.PendingApproval, domain.Cancelled); err != nil {
				errs <- fmt.Errorf("cancel %s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	got, err := s.RequestNumbers(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	states, err := s.GetNumbers(ctx, "acme", nums)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(nums) {
		t.Fatalf("request has %d numbers; want %d", len(got), len(nums))
	}
	counts, want := map[domain.Status]int{}, map[domain.Status]int{}
	for i, rn := range got {
		if i > 0 && got[i-1].Number >= rn.Number {
			t.Fatalf("numbers not in order: %s before %s", got[i-1].Number, rn.Number)
		}
		if st := states[rn.Number].Status; rn.Status != st {
			t.Errorf("%s: request says %s, number is %s", rn.Number, rn.Status, st)
		}
		counts[rn.Status]++
	}
	for _, n := range states {
		want[n.Status]++
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts %v; the numbers say %v", counts, want)
	}
	if counts[domain.PendingApproval] != 0 || counts[domain.Cancelled]+counts[domain.Releasing]+counts[domain.Released] != len(nums) {
		t.Fatalf("counts %v: every number should have been approved or cancelled", counts)
	}
}

// TestRequestKeepsNumbersThatLeftIt: a number cancelled in one request and
// asked for again under another stays in the first as it ended there.
func TestRequestKeepsNumbersThatLeftIt(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	first := domain.Request{ID: "req-1", ProviderID: "pxc", CustomerID: "acme"}
	newRequest(t, s, first, []string{"+97239754571", "+97239754569"})
	if _, err := move(ctx, s, "acme", "+97239754571", domain.PendingApproval, domain.Cancelled); err != nil {
		t.Fatal(err)
	}
	cur, err := s.GetNumber(ctx, "acme", "+97239754571")
	if err != nil {
		t.Fatal(err)
	}
	second := domain.Request{ID: "req-2", ProviderID: "pxc", CustomerID: "acme"}
	next := cur
	next.Status, next.RequestID, next.Message = domain.PendingApproval, second.ID, ""
	if _, err := s.ApplyRequest(ctx, second, []domain.Change{{Prev: cur, Next: next, Actor: "provider:pxc", Why: "again"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		r    domain.Request
		want string
	}{
		{first, "[{+97239754569 PENDING_APPROVAL } {+97239754571 CANCELLED }]"},
		{second, "[{+97239754571 PENDING_APPROVAL }]"},
	}
	for _, tt := range tests {
		got, err := s.RequestNumbers(ctx, tt.r)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != tt.want {
			t.Errorf("%s: %v; want %s", tt.r.ID, got, tt.want)
		}
	}
	if _, err := s.GetRequest(ctx, "req-3"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetRequest of an unknown request: %v", err)
	}
	got, err := s.GetRequest(ctx, "req-1")
	if err != nil || got.ProviderID != "pxc" || got.CustomerID != "acme" || got.CreatedAt.IsZero() {
		t.Fatalf("GetRequest = %+v, %v", got, err)
	}
	// A change that does not belong to the request is refused unwritten.
	stray := domain.Change{Next: pending("acme", "pxc", "+97239754500")}
	if _, err := s.ApplyRequest(ctx, domain.Request{ID: "req-4", ProviderID: "pxc", CustomerID: "acme"}, []domain.Change{stray}); err == nil {
		t.Fatal("ApplyRequest wrote a change of another request")
	}
}

// TestListRequestsPaging lists a provider's requests newest first, page by
// page, all of them or one customer's, and refuses another listing's cursor.
func TestListRequestsPaging(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	base := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var all, acme []string // newest first
	for i := range 7 {
		customer := []string{"acme", "globex"}[i%2]
		r := domain.Request{ID: fmt.Sprintf("req-%d", i), ProviderID: "pxc", CustomerID: customer, CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		newRequest(t, s, r, []string{fmt.Sprintf("+1415555270%d", i)})
		all = append([]string{r.ID}, all...)
		if customer == "acme" {
			acme = append([]string{r.ID}, acme...)
		}
	}
	newRequest(t, s, domain.Request{ID: "req-other", ProviderID: "other", CustomerID: "acme", CreatedAt: base.Add(time.Hour)}, []string{"+14155552799"})

	list := func(q domain.RequestQuery) ([]string, []string) {
		t.Helper()
		var ids, cursors []string
		for {
			page, err := s.ListRequests(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > q.Limit {
				t.Fatalf("page of %d; limit %d", len(page.Items), q.Limit)
			}
			for _, r := range page.Items {
				ids = append(ids, r.ID)
			}
			if page.NextCursor == "" {
				return ids, cursors
			}
			cursors = append(cursors, page.NextCursor)
			q.Cursor = page.NextCursor
		}
	}
	tests := []struct {
		name string
		q    domain.RequestQuery
		want []string
	}{
		{"all, 3 a page", domain.RequestQuery{ProviderID: "pxc", Limit: 3}, all},
		{"all, one page", domain.RequestQuery{ProviderID: "pxc", Limit: 50}, all},
		{"acme, 2 a page", domain.RequestQuery{ProviderID: "pxc", CustomerID: "acme", Limit: 2}, acme},
		{"another provider", domain.RequestQuery{ProviderID: "other", Limit: 2}, []string{"req-other"}},
		{"no requests", domain.RequestQuery{ProviderID: "nobody", Limit: 2}, nil},
	}
	var cursor string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, cursors := list(tt.q)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("listed %v; want %v", got, tt.want)
			}
			if len(cursors) > 0 && cursor == "" {
				cursor = cursors[0]
			}
		})
	}
	for _, q := range []domain.RequestQuery{
		{ProviderID: "pxc", CustomerID: "acme", Cursor: cursor},
		{ProviderID: "other", Cursor: cursor},
		{ProviderID: "pxc", Cursor: "bm90LWEtY3Vyc29y"},
	} {
		if _, err := s.ListRequests(ctx, q); !errors.Is(err, domain.ErrBadCursor) {
			t.Errorf("ListRequests(%+v) = %v; want ErrBadCursor", q, err)
		}
	}
	// The request items sit in index partitions of their own: a listing of
	// numbers never reads them.
	page, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", ProviderID: "pxc", Limit: 100})
	if err != nil || len(page.Items) != 4 {
		t.Fatalf("ListNumbers = %d numbers, %v; want acme's 4", len(page.Items), err)
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(table.IndexCustomer),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: customerIndexPK("acme", domain.None)}},
	})
	if err != nil || len(out.Items) != 5 { // pxc's 4 and other's 1
		t.Fatalf("acme's ByCustomer partition holds %d items, %v; want its 5 numbers", len(out.Items), err)
	}
}
