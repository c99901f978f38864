package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/zoom"
)

// The Zoom-calls step: 500 unassigned numbers approved together, once per
// release mode, counting what reaches the Zoom simulator.
const (
	modeNumbers = 500
	// modeCarrierCode is the carrier's Provider Exchange code in carrier
	// mode's run.
	modeCarrierCode = 4242
	// modePrefix + 4 digits are the numbers (a block of its own).
	modePrefix = "+9723978"
)

// modeResult is one release mode's run.
type modeResult struct {
	mode   domain.ReleaseMode
	budget zoom.Limits // the service's share of the account's limits
	limits zoom.Limits // what the simulator enforces
	// settled is from the approval's answer until every number was
	// RELEASED or FAILED (or the wait gave up).
	settled             time.Duration
	released, failed    int
	calls, peak         map[zoom.Label]int
	rateLimited         int
	releaseDeletes      int // removal calls (Medium in customer mode, Light peering deletes in carrier mode)
	problems            []string
	err                 error
	executionsSucceeded int
}

func (x *modeResult) total() int {
	n := 0
	for _, c := range x.calls {
		n += c
	}
	return n
}

// zoomCallsByMode runs modeNumbers releases in each release mode on a
// fresh system.
func (r *report) zoomCallsByMode() error {
	var errs []error
	for _, mode := range []domain.ReleaseMode{domain.ModeCustomer, domain.ModeCarrier} {
		x := runMode(mode)
		r.modes = append(r.modes, x)
		if x.err != nil {
			errs = append(errs, fmt.Errorf("%s mode: %w", mode, x.err))
		}
		if len(x.problems) > 0 {
			errs = append(errs, fmt.Errorf("%s mode: %v", mode, x.problems))
		}
	}
	return errors.Join(errs...)
}

func runMode(mode domain.ReleaseMode) *modeResult {
	cfg := devstack.Defaults()
	x := &modeResult{mode: mode, budget: cfg.ZoomBudget(), limits: cfg.ZoomLimits}
	logf("   -- %d numbers, %s mode", modeNumbers, mode)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	opts := sysOptions{noReconcile: true}
	if mode == domain.ModeCarrier {
		opts.carrierCode = modeCarrierCode
	}
	sys, err := startSystem(ctx, opts)
	if err != nil {
		x.err = err
		return x
	}
	defer sys.close()
	x.err = sys.releaseMode(ctx, x)
	return x
}

// releaseMode requests and approves the numbers (one request, one
// approval of 500), then waits for them to settle.
func (s *system) releaseMode(ctx context.Context, x *modeResult) error {
	cust, err := s.customer(bulkCustomer)
	if err != nil {
		return err
	}
	prov, err := s.provider(bulkProvider)
	if err != nil {
		return err
	}
	numbers := make([]string, modeNumbers)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("%s%04d", modePrefix, i)
		body := map[string]any{"account_id": bulkAccount, "number": numbers[i]}
		if x.mode == domain.ModeCarrier {
			body["carrier_code"] = modeCarrierCode
		}
		if _, err := s.anon().do("POST", "/zoom-sim/admin/numbers", body, nil); err != nil {
			return fmt.Errorf("add %s to the simulator: %w", numbers[i], err)
		}
	}
	if err := requestChunk(prov, numbers); err != nil {
		return err
	}
	if err := s.waitQuiet(30 * time.Second); err != nil {
		return err
	}
	before := s.stack.Sim.Stats()
	ok, _, err := approveAll(cust, numbers)
	if err != nil {
		return err
	}
	answered := time.Now()
	if len(ok) != modeNumbers {
		x.problems = append(x.problems, fmt.Sprintf("the approval answered RELEASING for %d of %d", len(ok), modeNumbers))
	}
	want := map[string]bool{}
	for _, n := range ok {
		want[n] = true
	}
	for {
		released, err := s.listed(ctx, bulkCustomer, domain.Released, want)
		if err != nil {
			return err
		}
		failed, err := s.listed(ctx, bulkCustomer, domain.Failed, want)
		if err != nil {
			return err
		}
		x.released, x.failed = len(released), len(failed)
		if x.released+x.failed == len(ok) {
			break
		}
		if time.Since(answered) > 20*time.Minute {
			x.problems = append(x.problems, fmt.Sprintf("after 20 minutes %d RELEASED, %d FAILED of %d", x.released, x.failed, len(ok)))
			break
		}
		time.Sleep(time.Second)
	}
	x.settled = time.Since(answered)
	after := s.stack.Sim.Stats()
	x.calls, x.peak = map[zoom.Label]int{}, map[zoom.Label]int{}
	for _, l := range zoomLabels {
		x.calls[l] = after.Calls[l] - before.Calls[l]
		x.peak[l] = after.PeakPerSecond[l]
	}
	x.rateLimited = after.RateLimited - before.RateLimited
	if x.failed > 0 {
		x.problems = append(x.problems, fmt.Sprintf("%d FAILED", x.failed))
	}
	if x.rateLimited > 0 {
		x.problems = append(x.problems, fmt.Sprintf("Zoom answered 429 %d times", x.rateLimited))
	}
	for _, l := range zoomLabels {
		if x.peak[l] > x.budget.Of(l) {
			x.problems = append(x.problems, fmt.Sprintf("peak %d %s calls in one second, over the share of %d", x.peak[l], l, x.budget.Of(l)))
		}
	}
	logf("   %s mode: %d RELEASED, %d FAILED in %s; Zoom calls %s (%d, %.2f a number), peak %s per s (share %s), %d×429",
		x.mode, x.released, x.failed, x.settled.Round(time.Second), byLabel(x.calls), x.total(), float64(x.total())/float64(max(1, x.released)),
		byLabel(x.peak), x.budget, x.rateLimited)
	return nil
}

func (r *report) mdZoomCalls(w printer) {
	w("## Zoom calls per release mode (%d numbers approved together)", modeNumbers)
	w("")
	w("A fresh local system per mode (devstack's defaults, the reconciler off): %d unassigned numbers in customer `%s`'s Zoom account (carrier mode: pushed there by carrier %d, whose own Zoom account the service uses), requested in one request and approved in one approval. The Zoom simulator counts every call it admits, by rate-limit label, and the most in one second. The service paces to its share of the account's Pro limits (`zoomRateShare`, 50%%: %s); the simulator enforces the whole of them (%s).", modeNumbers, bulkCustomer, modeCarrierCode, devstack.Defaults().ZoomBudget(), devstack.Defaults().ZoomLimits)
	w("")
	w("| | customer mode | carrier mode |")
	w("|---|---|---|")
	row := func(name string, f func(x *modeResult) string) {
		cells := []string{"—", "—"}
		for _, x := range r.modes {
			i := 0
			if x.mode == domain.ModeCarrier {
				i = 1
			}
			if x.err != nil {
				cells[i] = "error: " + trunc(x.err.Error(), 80)
				continue
			}
			cells[i] = f(x)
		}
		w("| %s | %s | %s |", name, cells[0], cells[1])
	}
	row("outcome", func(x *modeResult) string { return fmt.Sprintf("%d RELEASED, %d FAILED", x.released, x.failed) })
	row("Zoom calls, by label", func(x *modeResult) string { return byLabel(x.calls) })
	row("**Zoom calls in all**", func(x *modeResult) string { return fmt.Sprintf("**%d**", x.total()) })
	row("Zoom calls per released number", func(x *modeResult) string {
		return fmt.Sprintf("%.2f", float64(x.total())/float64(max(1, x.released)))
	})
	row("most calls in one second, by label (the share)", func(x *modeResult) string { return fmt.Sprintf("%s (%s)", byLabel(x.peak), x.budget) })
	row("answered 429", func(x *modeResult) string { return fmt.Sprint(x.rateLimited) })
	row("approval answered → all settled", func(x *modeResult) string { return x.settled.Round(time.Second).String() })
	w("")
	w("Where the calls go: the checks share listings (customer mode: a number's block of 1,000, `GET /number_management/numbers?keyword=<prefix>`, Light, up to 5 pages of 200; carrier mode: the carrier's whole view, `GET /number_management/carrier/peering_numbers`, Light, up to 5 pages of 300), each kept 30 s by the release-tasks instance that made it; the release queue's consumer removes the numbers that arrive within its 5 s window together, 10 ids per `DELETE /number_management/numbers` (Medium) or 200 numbers per Provider Exchange delete (Light), and holds a partial delete back (at most twice, 5 s each) to fill it with the next arrivals.")
	w("")
}
