package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/domain"
)

// querySpy counts Query calls on top of spyDB.
type querySpy struct {
	*spyDB
	mu      sync.Mutex
	queries int
}

func (q *querySpy) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	q.mu.Lock()
	q.queries++
	q.mu.Unlock()
	return q.spyDB.Query(ctx, in, opts...)
}

// rawItem renders the stored item under a key, "" when there is none.
func rawItem(t *testing.T, s *Store, pk, sk string) string {
	t.Helper()
	out, err := s.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return ""
	}
	return render(out.Item)
}

// TestPutCustomerIsOneTransaction: creating a customer writes its item
// (listed) and its Zoom account's lookup in one transaction; changing the
// account moves the lookup in one transaction too; links are kept. The
// item is laid out exactly as PutTenants lays it out.
func TestPutCustomerIsOneTransaction(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	acme := domain.Customer{ID: "acme", Name: "Acme Corp", ZoomAccountID: "zoom-acme", ContactEmails: []string{"ops@acme.example"}}
	if err := s.PutCustomer(ctx, acme, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, "pxc", "acme"); err != nil {
		t.Fatal(err)
	}
	if got := rawItem(t, s, "CUST#acme", "META"); got != customerLayout {
		t.Fatalf("customer item:\n%s\nwant (as PutTenants writes it):\n%s", got, customerLayout)
	}
	if got := rawItem(t, s, "ZACCT#zoom-acme", "META"); got != "PK S ZACCT#zoom-acme\nSK S META\ncustomer_id S acme\nname S Acme Corp\nzoom_account_id S zoom-acme" {
		t.Fatalf("lookup item:\n%s", got)
	}

	prev, err := s.GetCustomer(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	moved := domain.Customer{ID: "acme", Name: "Acme Inc", ZoomAccountID: "zoom-acme-2"}
	spy.transactSizes = nil
	if err := s.PutCustomer(ctx, moved, &prev); err != nil {
		t.Fatal(err)
	}
	if len(spy.transactSizes) != 1 || spy.transactSizes[0] != 3 {
		t.Fatalf("moving the Zoom account took transactions of %v items; want one of 3 (customer, new lookup, old lookup)", spy.transactSizes)
	}
	got, err := s.GetCustomer(ctx, "acme")
	want := domain.Customer{ID: "acme", Name: "Acme Inc", ZoomAccountID: "zoom-acme-2", Providers: []string{"pxc"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after the move: %+v, %v; want %+v (contact emails cleared, providers kept)", got, err, want)
	}
	if _, err := s.CustomerByZoomAccount(ctx, "zoom-acme"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the old lookup is still there: %v", err)
	}
	if c, err := s.CustomerByZoomAccount(ctx, "zoom-acme-2"); err != nil || c.ID != "acme" || c.Name != "Acme Inc" {
		t.Fatalf("the new lookup = %+v, %v", c, err)
	}
}

// TestPutCustomerRefusals: a Zoom account another customer has, and a
// customer that changed since it was read, are refused with nothing
// written.
func TestPutCustomerRefusals(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	for _, c := range []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}, {ID: "globex", Name: "Globex", ZoomAccountID: "zoom-globex"}} {
		if err := s.PutCustomer(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	globex, err := s.GetCustomer(ctx, "globex")
	if err != nil {
		t.Fatal(err)
	}
	stale := globex
	stale.ZoomAccountID = "zoom-elsewhere"
	tests := []struct {
		name string
		c    domain.Customer
		prev *domain.Customer
		want error
	}{
		{"an update taking another's account", domain.Customer{ID: "globex", Name: "Renamed", ZoomAccountID: "zoom-acme"}, &globex, domain.ErrZoomAccountTaken},
		{"a new customer taking another's account", domain.Customer{ID: "initech", Name: "Initech", ZoomAccountID: "zoom-acme"}, nil, domain.ErrZoomAccountTaken},
		{"created meanwhile", domain.Customer{ID: "globex", Name: "Renamed", ZoomAccountID: "zoom-globex"}, nil, domain.ErrConflict},
		{"its account moved meanwhile", domain.Customer{ID: "globex", Name: "Renamed", ZoomAccountID: "zoom-new"}, &stale, domain.ErrConflict},
		{"deleted meanwhile", domain.Customer{ID: "nobody", Name: "Nobody"}, &domain.Customer{ID: "nobody"}, domain.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := rawItem(t, s, "CUST#acme", "META") + rawItem(t, s, "CUST#globex", "META") + rawItem(t, s, "ZACCT#zoom-acme", "META") +
				rawItem(t, s, "ZACCT#zoom-globex", "META")
			spy.transactSizes = nil
			err := s.PutCustomer(ctx, tt.c, tt.prev)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v; want %v", err, tt.want)
			}
			if errors.Is(tt.want, domain.ErrZoomAccountTaken) != errors.Is(err, domain.ErrZoomAccountTaken) {
				t.Fatalf("err = %v; want exactly %v", err, tt.want)
			}
			after := rawItem(t, s, "CUST#acme", "META") + rawItem(t, s, "CUST#globex", "META") + rawItem(t, s, "ZACCT#zoom-acme", "META") +
				rawItem(t, s, "ZACCT#zoom-globex", "META")
			if after != before {
				t.Fatalf("a refused write changed items:\n%s\nwant:\n%s", after, before)
			}
			for _, gone := range []string{"CUST#initech", "CUST#nobody", "ZACCT#zoom-new"} {
				if it := rawItem(t, s, gone, "META"); it != "" {
					t.Fatalf("a refused write left %s:\n%s", gone, it)
				}
			}
			if len(spy.transactSizes) != 1 {
				t.Fatalf("%d transactions; want the one refused", len(spy.transactSizes))
			}
		})
	}
}

// TestSetZoomAccountKeepsTheListing: Connect Zoom's move of the account
// (SetZoomAccount) keeps the customer listed with its providers and the
// new account, and is refused for an account another customer has.
func TestSetZoomAccountKeepsTheListing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, c := range []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}, {ID: "globex", Name: "Globex", ZoomAccountID: "zoom-globex"}} {
		if err := s.PutCustomer(ctx, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Link(ctx, "pxc", "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZoomAccount(ctx, "acme", "zoom-acme-new"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZoomAccount(ctx, "acme", "zoom-globex"); !errors.Is(err, domain.ErrZoomAccountTaken) || !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("taking globex's account: %v; want ErrZoomAccountTaken, a conflict", err)
	}
	page, err := s.ListCustomers(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Customer{
		{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme-new", Providers: []string{"pxc"}},
		{ID: "globex", Name: "Globex", ZoomAccountID: "zoom-globex"},
	}
	if !reflect.DeepEqual(page.Items, want) {
		t.Fatalf("listing = %+v; want %+v", page.Items, want)
	}
	if c, err := s.CustomerByZoomAccount(ctx, "zoom-acme-new"); err != nil || c.ID != "acme" {
		t.Fatalf("new lookup = %+v, %v", c, err)
	}
	if _, err := s.CustomerByZoomAccount(ctx, "zoom-acme"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("old lookup: %v", err)
	}
}

// TestLinks: linking needs the customer (nothing written otherwise), is
// idempotent, and puts the provider in the customer's providers in the
// same transaction; unlinking takes both away, and is idempotent too.
func TestLinks(t *testing.T) {
	s, spy := newStore(t)
	ctx := context.Background()
	if err := s.Link(ctx, "pxc", "acme"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("linking an unknown customer: %v; want not found", err)
	}
	if linked, err := s.IsLinked(ctx, "pxc", "acme"); err != nil || linked {
		t.Fatalf("a refused link was written: %v, %v", linked, err)
	}
	for _, c := range []string{"acme", "globex"} {
		if err := s.PutCustomer(ctx, domain.Customer{ID: c, Name: c}, nil); err != nil {
			t.Fatal(err)
		}
	}
	spy.transactSizes = nil
	for _, l := range []domain.Link{
		{ProviderID: "pxc", CustomerID: "acme"}, {ProviderID: "pxc", CustomerID: "acme"},
		{ProviderID: "other", CustomerID: "acme"}, {ProviderID: "pxc", CustomerID: "globex"},
	} {
		if err := s.Link(ctx, l.ProviderID, l.CustomerID); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(spy.transactSizes, []int{2, 2, 2, 2}) {
		t.Fatalf("links took transactions of %v items; want 2 each (link, provider of the customer)", spy.transactSizes)
	}
	if c, _ := s.GetCustomer(ctx, "acme"); !reflect.DeepEqual(c.Providers, []string{"other", "pxc"}) {
		t.Fatalf("acme's providers = %v", c.Providers)
	}
	linked, err := s.LinkedCustomers(ctx, "pxc")
	if err != nil || len(linked) != 2 || linked[0].ID != "acme" || linked[1].ID != "globex" || linked[0].Name != "acme" {
		t.Fatalf("pxc's customers = %+v, %v", linked, err)
	}
	for range 2 {
		if err := s.Unlink(ctx, "pxc", "acme"); err != nil {
			t.Fatal(err)
		}
	}
	if linked, err := s.IsLinked(ctx, "pxc", "acme"); err != nil || linked {
		t.Fatalf("still linked after unlinking: %v, %v", linked, err)
	}
	if c, _ := s.GetCustomer(ctx, "acme"); !reflect.DeepEqual(c.Providers, []string{"other"}) {
		t.Fatalf("acme's providers after unlinking pxc = %v", c.Providers)
	}
	if linked, err := s.LinkedCustomers(ctx, "pxc"); err != nil || len(linked) != 1 || linked[0].ID != "globex" {
		t.Fatalf("pxc's customers after unlinking acme = %+v, %v", linked, err)
	}
	if err := s.Unlink(ctx, "pxc", "nobody"); err != nil {
		t.Fatalf("unlinking from an unknown customer: %v", err)
	}
}

// TestListCustomersPages: every customer by id, a page per Query (no Scan:
// the store cannot even call one), with providers and no read per link;
// cursors work only for this listing.
func TestListCustomersPages(t *testing.T) {
	base, _ := newStore(t)
	spy := &querySpy{spyDB: base.db.(*spyDB)}
	s := New(spy, base.table)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("cust-%02d", 6-i) // written out of order
		if err := s.PutCustomer(ctx, domain.Customer{ID: id, Name: "Customer " + id}, nil); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	if err := s.Link(ctx, "pxc", "cust-03"); err != nil {
		t.Fatal(err)
	}
	// A number of a customer: its listing entries live in the same index.
	if _, err := s.Apply(ctx, domain.Change{Next: pending("cust-01", "pxc", "+97239754571"), Actor: "p", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	spy.queries = 0
	var got []string
	var pages []int
	cursor := ""
	for {
		page, err := s.ListCustomers(ctx, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, len(page.Items))
		for _, c := range page.Items {
			got = append(got, c.ID)
			if c.Name != "Customer "+c.ID {
				t.Errorf("%s named %q", c.ID, c.Name)
			}
			if wantP := c.ID == "cust-03"; wantP != reflect.DeepEqual(c.Providers, []string{"pxc"}) {
				t.Errorf("%s providers %v", c.ID, c.Providers)
			}
		}
		if page.NextCursor == "" {
			break
		}
		if _, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "cust-01", Cursor: page.NextCursor}); !errors.Is(err, domain.ErrBadCursor) {
			t.Fatalf("the customer list's cursor lists numbers: %v", err)
		}
		cursor = page.NextCursor
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed %v; want %v", got, want)
	}
	if spy.queries != len(pages) || len(pages) < 3 {
		t.Fatalf("%d queries for pages %v; want one per page, pages of 3", spy.queries, pages)
	}
	numbers, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "cust-01", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for name, cursor := range map[string]string{"garbage": "not-a-cursor", "another listing's": numbers.NextCursor} {
		if cursor == "" {
			continue
		}
		if _, err := s.ListCustomers(ctx, cursor, 3); !errors.Is(err, domain.ErrBadCursor) {
			t.Errorf("%s cursor: %v; want ErrBadCursor", name, err)
		}
	}
	if _, err := s.ListCustomers(ctx, "eyJQSyI6IkNVU1QjYWNtZSJ9", 3); !errors.Is(err, domain.ErrBadCursor) {
		t.Errorf("forged cursor: %v; want ErrBadCursor", err)
	}
}

// TestZoomAccountIDsKeepTheirCase: Zoom's account ids are mixed-case
// base64url; the one Zoom names is found, and one that differs only in case
// is another account.
func TestZoomAccountIDsKeepTheirCase(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const real = "Q4ZqBuXlQ0agHvmM6cSgYA"
	if err := s.PutCustomer(ctx, domain.Customer{ID: "acme", Name: "Acme"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetZoomAccount(ctx, "acme", real); err != nil {
		t.Fatalf("SetZoomAccount(%s): %v", real, err)
	}
	if c, err := s.CustomerByZoomAccount(ctx, real); err != nil || c.ID != "acme" || c.ZoomAccountID != real {
		t.Fatalf("lookup of %s = %+v, %v", real, c, err)
	}
	if _, err := s.CustomerByZoomAccount(ctx, strings.ToLower(real)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("lookup of the lower-cased id: %v; want not found", err)
	}
	if err := s.SetZoomAccount(ctx, "acme", "zoom#acme"); err == nil {
		t.Fatal("an id with the key delimiter was accepted")
	}
}
