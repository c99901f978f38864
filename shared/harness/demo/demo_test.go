package demo_test

import (
	"context"
	"log/slog"
	"testing"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/demo"
	"numberrelease/shared/harness/storetest"
)

// TestSeed: the demo leaves acme's two numbers awaiting its approval, asked
// for by pxc, and seeding again changes nothing.
func TestSeed(t *testing.T) {
	ctx := context.Background()
	st := storetest.New()
	for range 2 {
		if err := demo.Seed(ctx, st, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := st.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", Status: domain.PendingApproval})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("acme's numbers awaiting approval = %+v, %v; want 2", page.Items, err)
	}
	for _, n := range page.Items {
		if n.ProviderID != "pxc" || n.Version != 1 {
			t.Fatalf("%s: provider %s, version %d; want pxc's, written once", n.Number, n.ProviderID, n.Version)
		}
	}
	if c, err := st.CustomerByZoomAccount(ctx, "zoom-initech"); err != nil || c.ID != "initech" {
		t.Fatalf("customer of zoom-initech = %+v, %v", c, err)
	}
}
