package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"numberrelease/shared/customers"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/reconcile"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
	"numberrelease/shared/tasks"
)

// The store and the fake both serve every consumer of the store (the
// consumers know only their own interfaces and package domain).
var (
	_ release.Store            = (*store.Store)(nil)
	_ release.HintStore        = (*store.Store)(nil)
	_ httpapi.IdempotencyStore = (*store.Store)(nil)
	_ tasks.Store              = (*store.Store)(nil)
	_ reconcile.Store          = (*store.Store)(nil)
	_ customers.Store          = (*store.Store)(nil)

	_ release.Store            = (*storetest.Store)(nil)
	_ release.HintStore        = (*storetest.Store)(nil)
	_ httpapi.IdempotencyStore = (*storetest.Store)(nil)
	_ tasks.Store              = (*storetest.Store)(nil)
	_ reconcile.Store          = (*storetest.Store)(nil)
	_ customers.Store          = (*storetest.Store)(nil)
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// contractStore is what both stores offer that the contract checks.
type contractStore interface {
	release.Store
	release.HintStore
	httpapi.IdempotencyStore
	reconcile.Store
	customers.Store
	PutTenants(ctx context.Context, customers []domain.Customer, links []domain.Link) error
}

// stores are the store on a fresh emulator table and the fake: the
// contract holds for both (the first is skipped under -short).
func stores(t *testing.T) map[string]func(t *testing.T) contractStore {
	return map[string]func(t *testing.T) contractStore{
		"dynamodb": func(t *testing.T) contractStore {
			client, table := emulatortest.NewTable(t)
			return store.New(client, table)
		},
		"storetest": func(*testing.T) contractStore { return storetest.New() },
	}
}

func pending(n string) domain.Number {
	return domain.Number{CustomerID: "acme", Number: n, Status: domain.PendingApproval, ProviderID: "pxc", RequestID: "r1"}
}

// TestContract runs the same scenarios against the DynamoDB store and the
// fake, so the fake keeps the store's rules.
func TestContract(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("conditional writes", func(t *testing.T) { conditionalWrites(t, open(t)) })
			t.Run("transactions", func(t *testing.T) { transactions(t, open(t)) })
			t.Run("listing", func(t *testing.T) { listing(t, open(t)) })
			t.Run("tenants", func(t *testing.T) { tenants(t, open(t)) })
			t.Run("onboarding", func(t *testing.T) { onboarding(t, open(t)) })
			t.Run("idempotency", func(t *testing.T) { idempotency(t, open(t)) })
		})
	}
}

func conditionalWrites(t *testing.T, s contractStore) {
	ctx := context.Background()
	first, err := s.Apply(ctx, domain.Change{Next: pending("+14155550001"), Actor: "p", Why: "asked"})
	if err != nil || first.Version != 1 || first.Transitions != 1 || first.UpdatedAt.IsZero() || first.RequestedAt.IsZero() {
		t.Fatalf("first write = %+v, %v", first, err)
	}
	if _, err := s.Apply(ctx, domain.Change{Next: pending("+14155550001"), Actor: "p", Why: "again"}); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("second creation = %v; want a conflict", err)
	}
	meta := first
	meta.Message = "touched"
	second, err := s.Apply(ctx, domain.Change{Prev: first, Next: meta, Actor: "x", Why: "metadata"})
	if err != nil || second.Version != 2 || second.Transitions != 1 {
		t.Fatalf("metadata write = %+v, %v; want version 2, still 1 transition", second, err)
	}
	stale := first
	stale.Status = domain.Releasing
	var ce *domain.ConflictError
	if _, err := s.Apply(ctx, domain.Change{Prev: first, Next: stale, Actor: "c", Why: "stale"}); !errors.As(err, &ce) || fmt.Sprint(ce.Numbers) != "[+14155550001]" {
		t.Fatalf("stale write = %v; want a ConflictError naming the number", err)
	}
	bad := second
	bad.Status = domain.Released
	if _, err := s.Apply(ctx, domain.Change{Prev: second, Next: bad, Actor: "c", Why: "skip"}); err == nil || errors.Is(err, domain.ErrConflict) {
		t.Fatalf("PENDING_APPROVAL → RELEASED = %v; want a refusal that is not a conflict", err)
	}
	next := second
	next.Status = domain.Releasing
	if _, err := s.Apply(ctx, domain.Change{Prev: second, Next: next, Actor: "c", Why: "approved"}); err != nil {
		t.Fatal(err)
	}
	hist, err := s.History(ctx, "acme", "+14155550001")
	if err != nil || len(hist) != 2 || hist[0].Version != 1 || hist[1].Version != 2 || hist[1].From != domain.PendingApproval ||
		hist[1].To != domain.Releasing || hist[1].Actor != "c" || hist[1].Why != "approved" || hist[1].RequestID != "r1" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if _, err := s.GetNumber(ctx, "acme", "+14155550009"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown number = %v; want ErrNotFound", err)
	}
}

func transactions(t *testing.T, s contractStore) {
	ctx := context.Background()
	var changes []domain.Change
	for i := range 60 {
		changes = append(changes, domain.Change{Next: pending(fmt.Sprintf("+1415555%04d", i)), Actor: "p", Why: "asked"})
	}
	if _, err := s.ApplyAll(ctx, changes[:1]); err != nil {
		t.Fatal(err)
	}
	// The first number exists already: the first transaction (50 numbers)
	// is refused whole; nothing of it is written.
	var ce *domain.ConflictError
	if _, err := s.ApplyAll(ctx, changes); !errors.As(err, &ce) || fmt.Sprint(ce.Numbers) != "[+14155550000]" {
		t.Fatalf("ApplyAll = %v; want a ConflictError naming +14155550000", err)
	}
	got, _ := s.GetNumbers(ctx, "acme", []string{"+14155550001", "+14155550059"})
	if len(got) != 0 {
		t.Fatalf("a refused transaction wrote %v", got)
	}
	// ApplyEach goes on past the conflict.
	written, errs := s.ApplyEach(ctx, changes)
	for i, err := range errs {
		if (i == 0) != errors.Is(err, domain.ErrConflict) || (err == nil && written[i].Version != 1) {
			t.Fatalf("change %d: %+v, %v", i, written[i], err)
		}
	}
	if got, _ := s.GetNumbers(ctx, "acme", []string{"+14155550001", "+14155550059"}); len(got) != 2 {
		t.Fatalf("after ApplyEach, %d of 2 numbers found", len(got))
	}
}

func listing(t *testing.T, s contractStore) {
	ctx := context.Background()
	for i := range 5 {
		n, err := s.Apply(ctx, domain.Change{Next: pending(fmt.Sprintf("+1415555000%d", i)), Actor: "p", Why: "asked"})
		if err != nil {
			t.Fatal(err)
		}
		if i >= 3 {
			for _, st := range []domain.Status{domain.Releasing, domain.Released} {
				next := n
				next.Status = st
				if n, err = s.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "w", Why: "w"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var seen []string
	q := domain.ListQuery{CustomerID: "acme", Limit: 2}
	for {
		page, err := s.ListNumbers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range page.Items {
			seen = append(seen, n.Number)
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
		if _, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "globex", Cursor: q.Cursor}); !errors.Is(err, domain.ErrBadCursor) {
			t.Fatalf("another customer's listing with acme's cursor = %v; want ErrBadCursor", err)
		}
	}
	if fmt.Sprint(seen) != "[+14155550000 +14155550001 +14155550002]" {
		t.Fatalf("default listing = %v; want the three not released, in order", seen)
	}
	page, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", Status: domain.Released})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("released listing = %+v, %v", page, err)
	}
	if page, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", ProviderID: "other"}); err != nil || len(page.Items) != 0 {
		t.Fatalf("another provider's listing = %+v, %v", page, err)
	}
	var inFlight int
	if err := s.InFlightBefore(ctx, time.Now().Add(time.Minute), func(domain.Number) error { inFlight++; return nil }); err != nil || inFlight != 0 {
		t.Fatalf("in flight = %d, %v; want none (the RELEASING ones were released)", inFlight, err)
	}
}

func tenants(t *testing.T, s contractStore) {
	ctx := context.Background()
	if err := s.PutTenants(ctx, []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}}, []domain.Link{{ProviderID: "pxc", CustomerID: "acme"}}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CustomerByZoomAccount(ctx, "zoom-acme"); err != nil || c.ID != "acme" {
		t.Fatalf("customer of zoom-acme = %+v, %v", c, err)
	}
	if _, err := s.CustomerByZoomAccount(ctx, "zoom-none"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown account = %v; want ErrNotFound", err)
	}
	for _, tt := range []struct {
		provider, customer string
		want               bool
	}{{"pxc", "acme", true}, {"pxc", "globex", false}, {"other", "acme", false}} {
		if got, err := s.IsLinked(ctx, tt.provider, tt.customer); err != nil || got != tt.want {
			t.Fatalf("IsLinked(%s, %s) = %v, %v", tt.provider, tt.customer, got, err)
		}
	}
}

// onboarding: customers written with their Zoom account's lookup under the
// store's conditions, links that need the customer, the customer list in
// pages by id with providers, and a provider's customers.
func onboarding(t *testing.T, s contractStore) {
	ctx := context.Background()
	acme := domain.Customer{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme", ContactEmails: []string{"ops@acme.example"}}
	if err := s.PutCustomer(ctx, acme, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutCustomer(ctx, acme, nil); !errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrZoomAccountTaken) {
		t.Fatalf("creating acme twice = %v; want a conflict", err)
	}
	if err := s.PutCustomer(ctx, domain.Customer{ID: "globex", Name: "Globex", ZoomAccountID: "zoom-acme"}, nil); !errors.Is(err, domain.ErrZoomAccountTaken) {
		t.Fatalf("globex taking acme's account = %v; want ErrZoomAccountTaken", err)
	}
	if _, err := s.GetCustomer(ctx, "globex"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a refused customer was written: %v", err)
	}
	if err := s.PutCustomer(ctx, domain.Customer{ID: "globex", Name: "Globex"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Link(ctx, "pxc", "initech"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("linking an unknown customer = %v; want ErrNotFound", err)
	}
	for _, c := range []string{"acme", "globex"} {
		if err := s.Link(ctx, "pxc", c); err != nil {
			t.Fatal(err)
		}
	}
	prev, err := s.GetCustomer(ctx, "acme")
	if err != nil || len(prev.Providers) != 1 || prev.Providers[0] != "pxc" || len(prev.ContactEmails) != 1 {
		t.Fatalf("acme = %+v, %v", prev, err)
	}
	stale := prev
	stale.ZoomAccountID = "zoom-other"
	moved := domain.Customer{ID: "acme", Name: "Acme Inc", ZoomAccountID: "zoom-acme-2"}
	if err := s.PutCustomer(ctx, moved, &stale); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("a write from a stale read = %v; want a conflict", err)
	}
	if err := s.PutCustomer(ctx, moved, &prev); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CustomerByZoomAccount(ctx, "zoom-acme"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the old lookup stayed: %v", err)
	}
	if c, err := s.CustomerByZoomAccount(ctx, "zoom-acme-2"); err != nil || c.ID != "acme" {
		t.Fatalf("the new lookup = %+v, %v", c, err)
	}
	if err := s.Unlink(ctx, "pxc", "globex"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cursor := ""
	for {
		page, err := s.ListCustomers(ctx, cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			ids = append(ids, fmt.Sprintf("%s:%s:%v", c.ID, c.ZoomAccountID, c.Providers))
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if got, want := fmt.Sprint(ids), "[acme:zoom-acme-2:[pxc] globex::[]]"; got != want {
		t.Fatalf("customer list = %s; want %s", got, want)
	}
	if _, err := s.ListCustomers(ctx, "bm90LWEtY3Vyc29y", 1); !errors.Is(err, domain.ErrBadCursor) {
		t.Fatalf("a forged cursor = %v; want ErrBadCursor", err)
	}
	linked, err := s.LinkedCustomers(ctx, "pxc")
	if err != nil || len(linked) != 1 || linked[0].ID != "acme" || linked[0].Name != "Acme Inc" {
		t.Fatalf("pxc's customers = %+v, %v", linked, err)
	}
}

func idempotency(t *testing.T, s contractStore) {
	ctx := context.Background()
	res, ok, err := s.ReserveIdempotency(ctx, "pxc", "k1", "h", time.Minute)
	if err != nil || !ok || res.State != domain.IdempotencyInProgress || res.Owner == "" {
		t.Fatalf("reserve = %+v, %v, %v", res, ok, err)
	}
	held, ok, err := s.ReserveIdempotency(ctx, "pxc", "k1", "h", time.Minute)
	if err != nil || ok || held.Owner != res.Owner {
		t.Fatalf("second reserve = %+v, %v, %v; want the first's reservation", held, ok, err)
	}
	stranger := res
	stranger.Owner = "someone-else"
	if err := s.CompleteIdempotency(ctx, stranger, 201, []byte(`{}`)); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("complete by a stranger = %v; want ErrConflict", err)
	}
	if err := s.CompleteIdempotency(ctx, res, 201, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.GetIdempotency(ctx, "pxc", "k1"); err != nil || rec.State != domain.IdempotencyCompleted || string(rec.Body) != `{"a":1}` {
		t.Fatalf("completed record = %+v, %v", rec, err)
	}
	res2, ok, err := s.ReserveIdempotency(ctx, "pxc", "k2", "h", time.Minute)
	if err != nil || !ok {
		t.Fatal(err)
	}
	if err := s.ReleaseIdempotency(ctx, res2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdempotency(ctx, "pxc", "k2"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("released key = %v; want free (ErrNotFound)", err)
	}
	if _, ok, err := s.ReserveIdempotency(ctx, "pxc", "k2", "h", time.Minute); err != nil || !ok {
		t.Fatalf("reserve of a released key = %v, %v", ok, err)
	}
}
