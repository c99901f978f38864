package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"numberrelease/shared/domain"
)

// TestKeyLayout pins the keys of valid identifiers (stored data must stay
// readable) and shows that an identifier holding the delimiter cannot spell
// another identifier's key.
func TestKeyLayout(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"number", numberPK("acme", "+97239754571"), "NUM#acme#+97239754571"},
		{"customer", customerPK("acme"), "CUST#acme"},
		{"zoom account", zoomAccountPK("zoom-acme"), "ZACCT#zoom-acme"},
		{"provider", providerPK("pxc"), "PROV#pxc"},
		{"link", linkSK("acme"), "CUST#acme"},
		{"idempotency", idempotencyPK("pxc", "batch#1"), "IDEM#pxc#batch#1"},
		{"customer index", customerIndexPK("acme", domain.PendingApproval), "C#acme"},
		{"customer index, released", customerIndexPK("acme", domain.Released), "C#acme#RELEASED"},
		{"provider index", providerIndexPK("pxc", "acme", domain.PendingApproval), "P#pxc#C#acme"},
		{"provider index, released", providerIndexPK("pxc", "acme", domain.Released), "P#pxc#C#acme#RELEASED"},
		{"tenant holding the delimiter", customerIndexPK("acme#RELEASED", domain.PendingApproval), "C#acme%23RELEASED"},
		{"tenant holding an escape", customerIndexPK("acme%23RELEASED", domain.PendingApproval), "C#acme%2523RELEASED"},
		{"provider holding the delimiter", providerIndexPK("pxc#C#acme", "x", domain.PendingApproval), "P#pxc%23C%23acme#C#x"},
		{"idempotency scope holding the delimiter", idempotencyPK("pxc#batch", "1"), "IDEM#pxc%23batch#1"},
		{"number of a tenant holding the delimiter", numberPK("acme#+1", "+2"), "NUM#acme%23+1#+2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("key %q; want %q", tt.got, tt.want)
			}
		})
	}
}

// TestForgedIdentifiersReadNothing: even past validation, a customer or
// provider id holding '#' lists none of another's numbers.
func TestForgedIdentifiersReadNothing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	n, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754571"), Actor: "p", Why: "w"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []domain.Status{domain.Releasing, domain.Released} {
		next := n
		next.Status = st
		if n, err = s.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "t", Why: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Apply(ctx, domain.Change{Next: pending("acme", "pxc", "+97239754569"), Actor: "p", Why: "w"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    domain.ListQuery
	}{
		{"tenant acme#RELEASED", domain.ListQuery{CustomerID: "acme#RELEASED"}},
		{"tenant acme#RELEASED, released filter", domain.ListQuery{CustomerID: "acme#RELEASED", Status: domain.Released}},
		{"provider pxc, customer acme#RELEASED", domain.ListQuery{CustomerID: "acme#RELEASED", ProviderID: "pxc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := s.ListNumbers(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 0 {
				t.Fatalf("ListNumbers(%+v) read %d of acme's numbers: %+v", tt.q, len(page.Items), page.Items)
			}
		})
	}
	// The real listing still works: the layout of valid ids is unchanged.
	page, err := s.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", Status: domain.Released})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("acme's released listing = %+v, %v", page.Items, err)
	}
}

// TestPutTenantsRefusesBadIdentifiers: set-up data is held to the
// identifier syntax too, all or nothing.
func TestPutTenantsRefusesBadIdentifiers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	good := domain.Customer{ID: "acme", Name: "Acme"}
	tests := []struct {
		name      string
		customers []domain.Customer
		links     []domain.Link
		mention   string
	}{
		{"customer id with the delimiter", []domain.Customer{good, {ID: "acme#RELEASED"}}, nil, `customer id "acme#RELEASED"`},
		{"customer id in upper case", []domain.Customer{good, {ID: "Globex"}}, nil, `customer id "Globex"`},
		{"link's provider id", []domain.Customer{good}, []domain.Link{{ProviderID: "pxc#C#acme", CustomerID: "acme"}}, `provider id "pxc#C#acme"`},
		{"link's customer id", []domain.Customer{good}, []domain.Link{{ProviderID: "pxc", CustomerID: ""}}, `customer id ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.PutTenants(ctx, tt.customers, tt.links)
			if err == nil || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("PutTenants err = %v; want one naming %s", err, tt.mention)
			}
			if _, err := s.GetCustomer(ctx, "acme"); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("the valid customer was written anyway: %v", err)
			}
		})
	}
}
