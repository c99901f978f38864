package zoom_test

import (
	"context"
	"fmt"
	"testing"

	"numberrelease/shared/zoom"
)

// TestListPrefix lists a block of numbers through the simulator: every
// number of the block and none of the next, with its assignee; a block
// larger than the pages allowed comes back incomplete, never as "all".
func TestListPrefix(t *testing.T) {
	h := newHarness(t, options{})
	dana := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
	for i := range 450 {
		var a *zoom.Assignee
		if i == 7 {
			a = dana
		}
		h.sim.Put("acct", fmt.Sprintf("+97239751%03d", i), a)
	}
	h.sim.Put("acct", "+97239752000", nil) // another block
	tests := []struct {
		name         string
		pages        int
		wantN        int
		wantComplete bool
	}{
		{"the whole block in 3 pages", 5, 450, true},
		{"cut short", 2, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, complete, err := h.client.ListPrefix(context.Background(), "acct", "97239751", tt.pages)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantN || complete != tt.wantComplete {
				t.Fatalf("%d numbers, complete %v; want %d, %v", len(got), complete, tt.wantN, tt.wantComplete)
			}
			for _, pn := range got {
				if (pn.Number == "+97239751007") != (pn.Assignee != nil) || pn.ID == "" {
					t.Errorf("%+v", pn)
				}
			}
		})
	}
	if _, _, err := h.client.ListPrefix(context.Background(), "acct", "+9723", 1); zoom.KindOf(err) != zoom.Rejected {
		t.Errorf("a prefix that is not digits: %v, want Rejected", err)
	}
}

// TestCarrierView lists a carrier's whole view through the simulator,
// with whether each number is assigned; a view longer than the pages
// allowed comes back incomplete.
func TestCarrierView(t *testing.T) {
	h := newHarness(t, options{})
	h.sim.AddCarrier("carrier-acct", 4242)
	for i := range 350 {
		var a *zoom.Assignee
		if i == 3 {
			a = &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"}
		}
		h.sim.PutPeering(fmt.Sprintf("cust-%d", i%3), fmt.Sprintf("+97239753%03d", i), 4242, a)
	}
	h.sim.PutPeering("cust-0", "+97239754999", 7700, nil) // another carrier's
	for _, tt := range []struct {
		pages        int
		wantN        int
		wantComplete bool
	}{{5, 350, true}, {1, 300, false}} {
		got, complete, err := h.client.CarrierView(context.Background(), "carrier-acct", tt.pages)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.wantN || complete != tt.wantComplete {
			t.Fatalf("%d pages: %d numbers, complete %v; want %d, %v", tt.pages, len(got), complete, tt.wantN, tt.wantComplete)
		}
		for _, pn := range got {
			if (pn.Number == "+97239753003") != pn.Assigned {
				t.Errorf("%+v", pn)
			}
		}
	}
}
