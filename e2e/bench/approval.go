package main

// How long the approval of 300 and of 500 numbers takes to answer
// (section 5), through make run's HTTP server (shared/harness/devstack), alone and
// beside the CPU hog, each on a fresh system; and the provider's request
// of the same numbers just before it.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/harness/devstack"
)

const (
	// approvalRuns is how often each size and condition is measured, each
	// time on a fresh system.
	approvalRuns = 3
	// apiGatewayTimeout is API Gateway's integration timeout for a REST API
	// (infra/stack/api.go), the default and, without a quota increase, the
	// most: a longer call is answered 504 although the Lambda goes on.
	apiGatewayTimeout = 29 * time.Second
)

// approvalSizes are the approvals measured.
var approvalSizes = []int{300, 500}

type approvalRun struct {
	size, hog, run     int
	request, approve   time.Duration
	releasing, started int // numbers answered RELEASING; executions started before the answer
	// again counts the numbers the first call ran out of time for (sent
	// again, as the customer app does); all is until every number was
	// answered RELEASING.
	again int
	all   time.Duration
	// load is the 1-minute load average just before the request.
	load string
	err  error
}

func (r *report) approvalTimes() error {
	var errs []error
	for _, hog := range []int{0, hogProcs()} {
		for _, size := range approvalSizes {
			for run := 1; run <= approvalRuns; run++ {
				a := approveOnce(size, hog, run)
				r.approvals = append(r.approvals, a)
				if a.err != nil {
					errs = append(errs, fmt.Errorf("%d numbers, %s, run %d: %w", size, condition(hog), run, a.err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func condition(hog int) string {
	if hog == 0 {
		return "alone"
	}
	return "beside the CPU hog"
}

// approveOnce starts a fresh system, has the provider request size numbers
// and the customer approve them, beside hog busy processes (0: none), and
// times both calls.
func approveOnce(size, hog, run int) (a approvalRun) {
	a = approvalRun{size: size, hog: hog, run: run}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sys, err := startSystem(ctx, sysOptions{})
	if err != nil {
		a.err = err
		return a
	}
	defer sys.close()
	cust, err := sys.customer(bulkCustomer)
	if err != nil {
		a.err = err
		return a
	}
	prov, err := sys.provider(bulkProvider)
	if err != nil {
		a.err = err
		return a
	}
	numbers := bulkNumberList(size)
	if err := sys.putZoomNumbers(numbers); err != nil {
		a.err = err
		return a
	}
	if err := sys.waitQuiet(30 * time.Second); err != nil {
		a.err = err
		return a
	}
	a.load = strings.Fields(loadAvg())[0]
	if hog > 0 {
		h, err := startHog(hog)
		if err != nil {
			a.err = err
			return a
		}
		defer h.stop()
	}
	if a.request, err = timed(func() error { return requestChunk(prov, numbers) }); err != nil {
		a.err = err
		return a
	}
	before := sys.calls.Snapshot()
	var ok, again []string
	sent := time.Now()
	if a.approve, err = timed(func() error {
		var err error
		ok, again, err = approveChunk(cust, numbers)
		return err
	}); err != nil {
		a.err = err
		return a
	}
	a.started = sys.calls.Snapshot().Since(before).Calls[devstack.Call{Service: sfn.ServiceID, Operation: "StartExecution"}]
	a.again = len(again)
	if len(again) > 0 {
		more, _, err := approveAll(cust, again)
		if err != nil {
			a.err = err
			return a
		}
		ok = append(ok, more...)
	}
	a.all = time.Since(sent)
	a.releasing = len(ok)
	if a.releasing != size {
		a.err = fmt.Errorf("the approval answered RELEASING for %d of the %d numbers", a.releasing, size)
	}
	logf("   %d numbers, %s, run %d: request %s, approval %s (%d sent again; all RELEASING after %s; %d RELEASING, %d executions started meanwhile)",
		size, condition(hog), run, a.request.Round(time.Millisecond), a.approve.Round(time.Millisecond), a.again, a.all.Round(time.Millisecond), a.releasing, a.started)
	return a
}

func (r *report) mdApproval(w printer) {
	w("## 5. Approval call: %s numbers (make run's HTTP server)", joinInts(approvalSizes, " and "))
	w("")
	w("How long `POST /v1/numbers/release` takes to answer, and before it the provider's `POST /provider/v1/release-requests` of the same numbers, through the HTTP server `make run` serves (`shared/harness/devstack`: the same `httpapi` handler API Gateway invokes as the `api` Lambda, over moto). Each figure is on a fresh local system (its defaults, as `make run` starts it) whose Zoom simulator holds the numbers, unassigned; %d runs per size and condition, each value listed. The approval only writes (the numbers to RELEASING, in transactions of up to 50 numbers with their history entries); the starter reads those writes from the table's stream and starts the executions while the approval is still writing, on the same emulator and CPUs. Beside the CPU hog, %d × `%s` run from just before the request until the approval has answered.", approvalRuns, hogProcs(), hogCommand)
	w("")
	w("API Gateway (a REST API, `infra/stack/api.go`) cuts a request at **%s** (its integration timeout) and answers 504, although the Lambda goes on writing; so an approval must answer well within it.", apiGatewayTimeout)
	w("")
	w("The API function's timeout is %s (`shared/config.APITimeout`), and the local server gives each request the same deadline. A multi-number action stops starting work %s before it and answers the numbers it did not reach `unavailable` (send it again); the customer app sends those again by itself, as this bench does. The table gives the first call's answer time, how many numbers it left to send again, and the time until every number was answered RELEASING.", config.APITimeout, "3 s")
	w("")
	w("| numbers | condition | provider's request | approval answered in | slowest approval vs %s | numbers sent again | all RELEASING after | executions started before the answer | load average (1 min) before each run |", apiGatewayTimeout)
	w("|---:|---|---|---|---|---|---|---|---|")
	for _, hog := range []int{0, hogProcs()} {
		for _, size := range approvalSizes {
			var runs []approvalRun
			for _, a := range r.approvals {
				if a.size == size && a.hog == hog {
					runs = append(runs, a)
				}
			}
			if len(runs) == 0 {
				continue
			}
			var req, appr, started, loads, again, all []string
			var slowest time.Duration
			var failed []string
			for _, a := range runs {
				if a.err != nil {
					failed = append(failed, fmt.Sprintf("run %d: %s", a.run, strings.ReplaceAll(trunc(a.err.Error(), 200), "|", "\\|")))
				}
				loads = append(loads, a.load)
				if a.request > 0 {
					req = append(req, fmtSeconds(a.request))
				}
				if a.approve > 0 {
					appr = append(appr, fmtSeconds(a.approve))
					started = append(started, fmt.Sprint(a.started))
					again = append(again, fmt.Sprint(a.again))
					all = append(all, fmtSeconds(a.all))
					slowest = max(slowest, a.approve)
				}
			}
			verdict := "—"
			if slowest > 0 {
				verdict = fmt.Sprintf("%.0f%% of it", 100*slowest.Seconds()/apiGatewayTimeout.Seconds())
				if slowest >= apiGatewayTimeout {
					verdict = "**over it: API Gateway would answer 504**"
				}
			}
			if len(failed) > 0 {
				verdict += "; **failed**: " + strings.Join(failed, "; ")
			}
			w("| %d | %s | %s | %s | %s | %s | %s | %s | %s |", size, condition(hog), orDash(req), orDash(appr), verdict, orDash(again), orDash(all), orDash(started), orDash(loads))
		}
	}
	w("")
	w("These are the emulator's times on this machine (moto answers every DynamoDB call from one Python process, beside the executions the approval starts), not DynamoDB's; on AWS an approval of 500 numbers is 5 `BatchGetItem` and 10 `TransactWriteItems` round trips, one after the other.")
	w("")
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func orDash(v []string) string {
	if len(v) == 0 {
		return "—"
	}
	return strings.Join(v, ", ")
}

func joinInts(v []int, sep string) string {
	var s []string
	for _, n := range slices.Clone(v) {
		s = append(s, fmt.Sprint(n))
	}
	return strings.Join(s, sep)
}
