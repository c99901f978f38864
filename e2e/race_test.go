package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestCancelRacingTheRemovalNeverLies races the provider's cancel against
// the workflow's removal of the number in Zoom, many times, with Zoom
// slowed down so the removal is in flight for a while. The number waits
// for its unbind; the unbind wakes the workflow (check, then claim and
// delete, each Zoom call 1.5 s); the cancel comes at a random moment in
// that window. Whatever wins, the record must match Zoom: CANCELLED means
// the number is still in the customer's Zoom account, RELEASED means it is
// gone; a cancel answered 200 ends CANCELLED and one refused (409) ends
// RELEASED; and every history is a valid chain.
func TestCancelRacingTheRemovalNeverLies(t *testing.T) {
	if testing.Short() {
		t.Skip("races 50 cancels against removals; skipped in -short mode")
	}
	const iterations, together = 50, 25
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	setFault(t, `{"latency_ms":1500,"count":-1,"path_prefix":"/zoom-sim/v2/number_management/numbers"}`)
	defer setFault(t, "")

	var mu sync.Mutex
	outcomes := map[string]int{}
	for start := 0; start < iterations; start += together {
		var wg sync.WaitGroup
		for i := start; i < min(start+together, iterations); i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, user := fmt.Sprintf("+1415556%04d", i), fmt.Sprintf("u-race-%d", i)
				newAssignedNumber(t, n, user)
				approve(t, acme, n)
				acme.waitStatus(n, "WAITING_FOR_UNASSIGN", 10*settle())
				unbind(t, user, n)
				time.Sleep(time.Duration(rand.N(4000)) * time.Millisecond)
				var res map[string]any // a number, or a problem (whose status is the HTTP status)
				cancelled := pxc.do("DELETE", "/provider/v1/customers/acme/numbers/"+url.PathEscape(n)+"/release-request", nil, &res)
				if cancelled != http.StatusOK && cancelled != http.StatusConflict {
					t.Errorf("%s: cancel answered %d", n, cancelled)
					return
				}
				// Let the workflow finish whatever it was doing.
				var d numberDetail
				deadline := time.Now().Add(10 * settle())
				for {
					d = acme.number(n)
					if (d.Status == "RELEASED" || d.Status == "CANCELLED") && (stack == nil || !executionRunning(t, "acme", n)) {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("%s is %s %s after the cancel", n, d.Status, 10*settle())
						return
					}
					time.Sleep(200 * time.Millisecond)
				}
				_, inZoom := zoomNumbers(t)[n]
				switch {
				case d.Status == "CANCELLED" && !inZoom:
					t.Errorf("%s is CANCELLED but Zoom removed it (history %s)", n, d.path())
				case d.Status == "RELEASED" && inZoom:
					t.Errorf("%s is RELEASED but still in Zoom (history %s)", n, d.path())
				case cancelled == http.StatusOK && d.Status != "CANCELLED":
					t.Errorf("%s: the cancel was accepted, but the number ended %s (history %s)", n, d.Status, d.path())
				case cancelled == http.StatusConflict && d.Status != "RELEASED":
					t.Errorf("%s: the cancel was refused, but the number ended %s (history %s)", n, d.Status, d.path())
				}
				if msg := d.chainError(); msg != "" {
					t.Errorf("%s: history is not a valid chain: %s (%s)", n, msg, d.path())
				}
				mu.Lock()
				outcomes[fmt.Sprintf("cancel %d → %s", cancelled, d.Status)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	t.Logf("outcomes of %d races: %v", iterations, outcomes)
}

// executionRunning reports whether an execution of the number still runs.
func executionRunning(t *testing.T, customerID, n string) bool {
	t.Helper()
	for _, e := range splitExecutions(executionsOf(t, customerID, n)) {
		if e.status == "RUNNING" {
			return true
		}
	}
	return false
}
