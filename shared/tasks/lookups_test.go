package tasks

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// listingZoom is an account that lists by prefix, counting its calls.
type listingZoom struct {
	fakeZoom
	account  []zoom.PhoneNumber
	complete bool
	lists    int
}

// CarrierView lists the account as a carrier's view: every number, each
// with whether it is assigned.
func (z *listingZoom) CarrierView(context.Context, string, int) ([]zoom.PeeringNumber, bool, error) {
	z.lists++
	var out []zoom.PeeringNumber
	for _, pn := range z.account {
		out = append(out, zoom.PeeringNumber{Number: pn.Number, Assigned: pn.Assignee != nil})
	}
	return out, z.complete, nil
}

func (z *listingZoom) ListPrefix(_ context.Context, _, prefix string, _ int) ([]zoom.PhoneNumber, bool, error) {
	z.lists++
	var out []zoom.PhoneNumber
	for _, pn := range z.account {
		if strings.HasPrefix(strings.TrimPrefix(pn.Number, "+"), prefix) {
			out = append(out, pn)
		}
	}
	return out, z.complete, nil
}

// TestChecksOfABlockShareOneListing: the checks of numbers approved
// together list their block of 1,000 once and answer from it (assigned,
// free, not in the account) for lookupTTL, without a lookup each; a number
// changed since the listing (Zoom refused its delete, or it waited) is
// looked at again, as is any number once the listing is older than
// lookupTTL; a block too big to list whole falls back to a lookup.
func TestChecksOfABlockShareOneListing(t *testing.T) {
	const free, taken, gone = "+97239754001", "+97239754002", "+97239754003"
	dana := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	account := []zoom.PhoneNumber{{ID: "pn1", Number: free}, {ID: "pn2", Number: taken, Assignee: dana}}
	check := func(t *testing.T, tk *Tasks, st interface{ Put(domain.Number) }, e164 string, updated time.Time) CheckOutput {
		t.Helper()
		st.Put(domain.Number{CustomerID: "acme", Number: e164, Status: domain.Releasing, Attempt: 1, Version: 1, UpdatedAt: updated})
		out, err := tk.Handle(context.Background(), Input{Action: "check", CustomerID: "acme", Number: e164, Attempt: 1, StartedAt: tk.now().Format(time.RFC3339)})
		if err != nil {
			t.Fatal(err)
		}
		return out.(CheckOutput)
	}
	describe := func(c CheckOutput) string { return fmt.Sprintf("%s %s %v", c.Outcome, c.ZoomID, c.Assignee != nil) }

	t.Run("one listing answers the block", func(t *testing.T) {
		z := &listingZoom{account: account, complete: true}
		tk, st := setup(domain.Releasing, 1, &z.fakeZoom)
		tk.zoom = z
		approved := tk.now().Add(-time.Minute)
		for e164, want := range map[string]string{free: "unassigned pn1 false", taken: "assigned pn2 true", gone: "unassigned  false"} {
			if got := describe(check(t, tk, st, e164, approved)); got != want {
				t.Errorf("%s: %s, want %s", e164, got, want)
			}
		}
		if z.lists != 1 || z.finds != 0 {
			t.Errorf("%d listings and %d lookups for 3 numbers of one block; want 1 and 0", z.lists, z.finds)
		}
		// Changed since the listing: looked at again.
		check(t, tk, st, free, tk.now().Add(time.Second))
		if z.lists != 2 {
			t.Errorf("a number changed after the listing was answered from it (%d listings)", z.lists)
		}
		// The listing grows old.
		now := tk.now()
		tk.now = func() time.Time { return now.Add(lookupTTL + time.Second) }
		check(t, tk, st, taken, approved)
		if z.lists != 3 {
			t.Errorf("a listing older than %s was used (%d listings)", lookupTTL, z.lists)
		}
	})
	t.Run("carrier mode: one listing of the carrier's view", func(t *testing.T) {
		z := &listingZoom{account: account, complete: true}
		tk, st := setup(domain.Releasing, 1, &z.fakeZoom)
		tk.zoom = z
		tk.cfg.Mode, tk.cfg.CarrierCode, tk.cfg.CarrierAccountID = domain.ModeCarrier, 4242, "zoom-carrier"
		approved := tk.now().Add(-time.Minute)
		for e164, want := range map[string]string{free: "unassigned " + free + " false", taken: "assigned " + taken + " false", gone: "unassigned  false"} {
			if got := describe(check(t, tk, st, e164, approved)); got != want {
				t.Errorf("%s: %s, want %s", e164, got, want)
			}
		}
		if z.lists != 1 {
			t.Errorf("%d listings of the carrier's view for 3 numbers; want 1", z.lists)
		}
	})
	t.Run("a block too big to list whole", func(t *testing.T) {
		z := &listingZoom{account: account, complete: false}
		z.pn = zoom.PhoneNumber{ID: "pn3", Number: gone}
		tk, st := setup(domain.Releasing, 1, &z.fakeZoom)
		tk.zoom = z
		if got := describe(check(t, tk, st, gone, tk.now().Add(-time.Minute))); got != "unassigned pn3 false" || z.finds != 1 {
			t.Errorf("%s after %d lookups; want the number's own lookup (unassigned pn3), 1", got, z.finds)
		}
	})
}
