package tasks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/zoom"
)

// batchZoom is a Zoom account that records each removal call. A call
// naming an assigned id (or number) is refused whole, as Zoom's delete in
// the customer's account does; through the Provider Exchange the assigned
// ones are listed and the rest removed.
type batchZoom struct {
	mu       sync.Mutex
	assigned map[string]bool // ids (customer mode) or numbers (carrier mode)
	err      error           // answers every call when set
	calls    [][]string
}

func (z *batchZoom) FindNumber(context.Context, string, string) (zoom.PhoneNumber, error) {
	return zoom.PhoneNumber{}, fmt.Errorf("a batch release must not look numbers up")
}

func (z *batchZoom) CarrierPeeringNumbers(context.Context, string, []string) (map[string]zoom.PeeringNumber, error) {
	return nil, fmt.Errorf("a batch release must not look numbers up")
}

func (z *batchZoom) RemoveNumbers(_ context.Context, _ string, ids []string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls = append(z.calls, slices.Clone(ids))
	if z.err != nil {
		return z.err
	}
	for _, id := range ids {
		if z.assigned[id] {
			return &zoom.Error{Kind: zoom.Assigned, Message: id + " is assigned"}
		}
	}
	return nil
}

func (z *batchZoom) RemovePeeringNumbers(_ context.Context, _ string, _ int, numbers []string) ([]zoom.PeeringFailure, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.calls = append(z.calls, slices.Clone(numbers))
	if z.err != nil {
		return nil, z.err
	}
	var f []zoom.PeeringFailure
	for _, n := range numbers {
		if z.assigned[n] {
			f = append(f, zoom.PeeringFailure{Number: n, Reason: "Phone number is assigned", Kind: zoom.Assigned})
		}
	}
	return f, nil
}

func (z *batchZoom) sizes() []int {
	var out []int
	for _, c := range z.calls {
		out = append(out, len(c))
	}
	return out
}

// batchNumber is the i-th number of a batch test and its Zoom id.
func batchNumber(i int) (string, string) {
	return fmt.Sprintf("+1555010%04d", i), fmt.Sprintf("pn_%d", i)
}

// batchSetup holds n of acme's numbers RELEASING at attempt 1.
func batchSetup(n int, z Zoom, mode domain.ReleaseMode) (*Tasks, *storetest.Store, []Input) {
	st := storetest.New()
	_ = st.PutTenants(context.Background(), []domain.Customer{{ID: "acme", ZoomAccountID: "zoom-acme"}}, nil)
	var ins []Input
	for i := range n {
		e164, id := batchNumber(i)
		st.Put(domain.Number{CustomerID: "acme", Number: e164, Status: domain.Releasing, Attempt: 1, Version: 1, ProviderID: "pxc"})
		ins = append(ins, Input{CustomerID: "acme", Number: e164, Attempt: 1, ZoomID: id})
	}
	cfg := Config{Recheck: 10 * time.Second, MaxWait: time.Hour, Mode: mode}
	if mode == domain.ModeCarrier {
		cfg.CarrierCode, cfg.CarrierAccountID = 4242, "zoom-carrier"
	}
	tk := New(st, z, nil, cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	return tk, st, ins
}

// TestReleaseBatch: numbers released together cost one Zoom call per batch
// of the delete's maximum, not one each; a number assigned again meanwhile
// waits for its unbind without holding back the others; Zoom's trouble is
// each number's own error, for the state machine to retry.
func TestReleaseBatch(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		mode      domain.ReleaseMode
		assigned  []int // indexes Zoom keeps as assigned
		zoomErr   error
		holdable  bool // every number may wait for the next batch
		wantSizes []int
		wantErr   map[int]string // index → error; the others RELEASED
		allErr    string         // every number's error
	}{
		{name: "25 in the customer's account: 3 calls", n: 25, mode: domain.ModeCustomer, wantSizes: []int{10, 10, 5}},
		{name: "250 through the Provider Exchange: 2 calls", n: 250, mode: domain.ModeCarrier, wantSizes: []int{200, 50}},
		{name: "one assigned again: its batch goes one by one", n: 15, mode: domain.ModeCustomer, assigned: []int{3},
			wantSizes: append([]int{10}, append(slices.Repeat([]int{1}, 10), 5)...), wantErr: map[int]string{3: ErrZoomAssigned}},
		{name: "carrier: Zoom lists the assigned one", n: 5, mode: domain.ModeCarrier, assigned: []int{1},
			wantSizes: []int{5}, wantErr: map[int]string{1: ErrZoomAssigned}},
		{name: "a partial delete after full ones waits for the next batch", n: 25, mode: domain.ModeCustomer, holdable: true,
			wantSizes: []int{10, 10}, wantErr: map[int]string{20: "held", 21: "held", 22: "held", 23: "held", 24: "held"}},
		{name: "a partial delete alone waits too", n: 5, mode: domain.ModeCustomer, holdable: true,
			wantErr: map[int]string{0: "held", 1: "held", 2: "held", 3: "held", 4: "held"}},
		{name: "a lone number is never held", n: 1, mode: domain.ModeCustomer, holdable: true, wantSizes: []int{1}},
		{name: "carrier: a partial Provider Exchange delete waits", n: 30, mode: domain.ModeCarrier, holdable: true,
			wantErr: func() map[int]string {
				m := map[int]string{}
				for i := range 30 {
					m[i] = "held"
				}
				return m
			}()},
		{name: "throttled: every number retries", n: 3, mode: domain.ModeCustomer, zoomErr: &zoom.Error{Kind: zoom.Throttled},
			wantSizes: []int{3}, allErr: ErrZoomThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := &batchZoom{assigned: map[string]bool{}, err: tt.zoomErr}
			for _, i := range tt.assigned {
				e164, id := batchNumber(i)
				z.assigned[id], z.assigned[e164] = true, true
			}
			tk, st, ins := batchSetup(tt.n, z, tt.mode)
			errs := tk.ReleaseBatch(context.Background(), ins, slices.Repeat([]bool{tt.holdable}, len(ins)))
			if got := z.sizes(); !slices.Equal(got, tt.wantSizes) {
				t.Errorf("Zoom calls of sizes %v, want %v", got, tt.wantSizes)
			}
			for i, err := range errs {
				want := tt.wantErr[i]
				if tt.allErr != "" {
					want = tt.allErr
				}
				n, _ := st.Number("acme", ins[i].Number)
				wantStatus := domain.Released
				if want != "" {
					wantStatus = domain.Releasing
				}
				got := errType(err)
				if errors.Is(err, ErrHeld) {
					got = "held"
				}
				if got != want || n.Status != wantStatus {
					t.Errorf("%s: err %v, status %s; want %q, %s", ins[i].Number, err, n.Status, want, wantStatus)
				}
				if want == ErrZoomAssigned && n.RemovalStarted {
					t.Errorf("%s: Zoom kept it, but the record says its removal started (it could not be cancelled)", ins[i].Number)
				}
			}
		})
	}
}

// TestReleaseBatchEachNumberOnItsOwn: in one batch, a number cancelled
// meanwhile is not removed (Release.Superseded), one the check did not find
// in Zoom is released without a call, and one this attempt already
// released (its message delivered twice) is answered as released again.
func TestReleaseBatchEachNumberOnItsOwn(t *testing.T) {
	z := &batchZoom{}
	tk, st, ins := batchSetup(4, z, domain.ModeCustomer)
	cancelled, _ := st.Number("acme", ins[0].Number)
	cancelled.Status = domain.Cancelled
	st.Put(cancelled)
	ins[1].ZoomID = ""
	released, _ := st.Number("acme", ins[2].Number)
	released.Status = domain.Released
	st.Put(released)

	errs := tk.ReleaseBatch(context.Background(), ins, nil)
	want := []string{ErrSuperseded, "", "", ""}
	for i, err := range errs {
		if errType(err) != want[i] {
			t.Errorf("%s: err %v, want %q", ins[i].Number, err, want[i])
		}
	}
	if len(z.calls) != 1 || !slices.Equal(z.calls[0], []string{ins[3].ZoomID}) {
		t.Errorf("Zoom calls %v, want one for %s only", z.calls, ins[3].ZoomID)
	}
	for i, wantStatus := range []domain.Status{domain.Cancelled, domain.Released, domain.Released, domain.Released} {
		if n, _ := st.Number("acme", ins[i].Number); n.Status != wantStatus {
			t.Errorf("%s is %s, want %s", ins[i].Number, n.Status, wantStatus)
		}
	}
}
