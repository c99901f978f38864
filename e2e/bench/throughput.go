package main

// End-to-end throughput (section 6): 1,000 numbers released through the
// local system (make run's, shared/harness/devstack) against the Zoom simulator at
// Pro limits, in requests and approvals of 500, the API's most per call;
// once alone and once beside a CPU hog.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/pacing"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/zoom"
)

const (
	bulkNumbers  = 1000
	bulkPerCall  = 500 // the API's most numbers per request or approval
	bulkCustomer = "globex"
	bulkAccount  = "zoom-globex"
	bulkProvider = "pxc"
	// bulkPrefix + 4 digits are the numbers (the bulk end-to-end test's
	// block, on a fresh system).
	bulkPrefix = "+9723977"
	// A run waits, from the first approval's answer, for every approved
	// number to settle while numbers keep settling: it gives up when none
	// has for stallLimit (stuck), or after settleFactor × the Zoom bound.
	settleFactor = 10
	stallLimit   = 3 * time.Minute
)

// bulkZoomCalls are the Zoom calls one release needs, by rate-limit label:
// the check's lookup (GET /number_management/numbers, Light) and the delete
// (DELETE /number_management/numbers, Medium).
var bulkZoomCalls = map[zoom.Label]int{zoom.Light: 1, zoom.Medium: 1}

// zoomBound is the least time the account's budget allows n releases: for
// each label, its calls at its limit; the longest of these.
func zoomBound(n int, limits zoom.Limits) time.Duration {
	var bound time.Duration
	for label, calls := range bulkZoomCalls {
		if l := limits.Of(label); l > 0 {
			bound = max(bound, time.Duration(n*calls)*time.Second/time.Duration(l))
		}
	}
	return bound
}

// zoomLabels are the labels the bench reports, in order.
var zoomLabels = []zoom.Label{zoom.Light, zoom.Medium}

// hogProcs is the number of busy processes beside a run "beside the CPU
// hog": one per CPU the bench's process may use.
func hogProcs() int { return runtime.NumCPU() }

type throughputResult struct {
	// hog is the busy processes beside the run (0: alone).
	hog                 int
	requests, approvals []time.Duration
	// answered is from the first approval's sending to its answer;
	// settled from that answer until every approved number was RELEASED
	// or FAILED, or until the wait gave up (timedOut).
	answered, settled time.Duration
	timedOut          bool
	// sentAgain counts the numbers an approval ran out of time for and
	// that were sent again.
	sentAgain int
	// statuses counts all the run's numbers by their status at the end;
	// failed holds the FAILED ones.
	statuses map[domain.Status]int
	// released and failed are what the listings showed when the wait
	// ended.
	released int
	failed   []domain.Number
	bound    time.Duration
	limits   zoom.Limits // what the Zoom simulator enforces
	calls    devstack.CallCounts
	// Zoom simulator: calls admitted and most in one second, by label;
	// 429s.
	zoomCalls, zoomPeak map[zoom.Label]int
	zoom429             int
	// lambda429 is the release-tasks invokes the Lambda front refused over
	// the account's concurrency quota (429 TooManyRequestsException).
	lambda429  int
	capacity   int // the front's cap: the dev stage's account quota
	executions map[sfntypes.ExecutionStatus]int
	// history sums the executions' histories (read after the run).
	history historyTotals
	// problems are what the report must flag.
	problems []string
	logRows  []tallyRow
	// reconciled sums the reconciler's reports (checked, running, ...).
	reconciled map[string]int64
	// invokeTime is the mean time of a release-tasks invocation the
	// Lambda front ran (its handler's time, without the refused ones).
	invokeTime time.Duration
	moto       motoLog
	cpu        cpuUse
	// load averages when the measured part began and ended.
	loadBefore, loadAfter string
	// logFile is the system's log, kept when the run had problems.
	logFile string
	// err ended the run early.
	err error
}

// complete says whether every number ended RELEASED.
func (x *throughputResult) complete() bool {
	return x.err == nil && x.statuses[domain.Released] == bulkNumbers
}

func (x *throughputResult) label() string {
	if x.hog == 0 {
		return "alone"
	}
	return fmt.Sprintf("beside the CPU hog (%d × `%s`)", x.hog, hogCommand)
}

func (x *throughputResult) shortLabel() string {
	if x.hog == 0 {
		return "alone"
	}
	return "beside the CPU hog"
}

func (r *report) throughput() error {
	var errs []error
	for _, hog := range []int{0, hogProcs()} {
		x := runBulk(hog)
		r.bulk = append(r.bulk, x)
		switch {
		case x.err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", x.shortLabel(), x.err))
		case len(x.problems) > 0:
			errs = append(errs, fmt.Errorf("%s: %s", x.shortLabel(), strings.Join(x.problems, "; ")))
		}
	}
	return errors.Join(errs...)
}

// runBulk runs the 1,000-number release on a fresh system, beside hog busy
// processes (0: none). The result holds whatever was measured, also when
// the run went wrong.
func runBulk(hog int) *throughputResult {
	x := &throughputResult{hog: hog, limits: devstack.Defaults().ZoomBudget()}
	x.bound = zoomBound(bulkNumbers, x.limits)
	logf("   -- 1,000 numbers, %s", x.shortLabel())
	logFile, err := os.CreateTemp("", "bench-throughput-*.log")
	if err != nil {
		x.err = fmt.Errorf("create the system's log: %w", err)
		return x
	}
	defer logFile.Close()
	x.logFile = logFile.Name()
	logf("   system log: %s", x.logFile)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	sys, err := startSystem(ctx, sysOptions{log: logFile})
	if err != nil {
		x.err = err
		return x
	}
	defer sys.close()
	x.capacity = sys.stack.AccountConcurrency
	x.err = sys.releaseBulk(ctx, x)
	x.lambda429 = sys.logs.count(msgThrottled)
	x.logRows = sys.logs.rows(slog.LevelDebug)
	x.reconciled = map[string]int64{}
	for _, k := range []string{"checked", "running", "restarted", "stopped", "failed", "skipped"} {
		x.reconciled[k] = sys.logs.sum(msgReconciled, k)
	}
	if n := sys.logs.count(msgInvoke); n > 0 {
		x.invokeTime = time.Duration(sys.logs.sum(msgInvoke, "duration_ms")) * time.Millisecond / time.Duration(n)
	}
	x.moto = sys.readMotoLog()
	if x.err != nil || len(x.problems) > 0 {
		logf("   the system's log is kept: %s", x.logFile)
		return x
	}
	if err := os.Remove(x.logFile); err == nil {
		x.logFile = ""
	}
	return x
}

// releaseBulk runs the 1,000-number release and fills x.
func (s *system) releaseBulk(ctx context.Context, x *throughputResult) error {
	cust, err := s.customer(bulkCustomer)
	if err != nil {
		return err
	}
	prov, err := s.provider(bulkProvider)
	if err != nil {
		return err
	}
	numbers := bulkNumberList(bulkNumbers)
	if err := s.putZoomNumbers(numbers); err != nil {
		return err
	}
	if err := s.waitQuiet(30 * time.Second); err != nil {
		return err
	}

	x.loadBefore = loadAvg()
	var h *hog
	if x.hog > 0 {
		if h, err = startHog(x.hog); err != nil {
			return err
		}
		defer h.stop()
		logf("   CPU hog: %d × %s (pids %v)", x.hog, hogCommand, h.pids())
	}
	cpu0 := sampleCPU(s.motoPID, h)
	calls := s.calls.Snapshot()
	for _, chunk := range chunks(numbers, bulkPerCall) {
		d, err := timed(func() error { return requestChunk(prov, chunk) })
		if err != nil {
			return err
		}
		x.requests = append(x.requests, d)
		logf("   request of %d numbers: %s", len(chunk), d.Round(time.Millisecond))
	}

	zoomBefore := s.stack.Sim.Stats()
	var approved []string
	var answeredAt time.Time
	sent := time.Now()
	for _, chunk := range chunks(numbers, bulkPerCall) {
		var ok []string
		d, err := timed(func() error {
			var err error
			var again int
			ok, again, err = approveAll(cust, chunk)
			x.sentAgain += again
			return err
		})
		if err != nil {
			return err
		}
		if answeredAt.IsZero() {
			answeredAt = time.Now()
			x.answered = answeredAt.Sub(sent)
		}
		if len(ok) < len(chunk) {
			x.problems = append(x.problems, fmt.Sprintf("approval %d answered RELEASING for %d of its %d numbers", len(x.approvals)+1, len(ok), len(chunk)))
		}
		approved = append(approved, ok...)
		x.approvals = append(x.approvals, d)
		logf("   approval of %d numbers: %s", len(chunk), d.Round(time.Millisecond))
	}
	if err := s.waitSettled(ctx, approved, answeredAt, zoomBefore, settleFactor*x.bound, x); err != nil {
		return err
	}
	zoomAfter := s.stack.Sim.Stats()
	x.zoomCalls, x.zoomPeak = map[zoom.Label]int{}, map[zoom.Label]int{}
	for _, l := range zoomLabels {
		x.zoomCalls[l] = zoomAfter.Calls[l] - zoomBefore.Calls[l]
		x.zoomPeak[l] = zoomAfter.PeakPerSecond[l]
	}
	x.zoom429 = zoomAfter.RateLimited - zoomBefore.RateLimited
	logf("   %d RELEASED, %d FAILED %s after the first approval answered (bound %s, ratio %.2f); Zoom: %s calls, peak %s per s, %d×429",
		x.released, len(x.failed), x.settled.Round(time.Second), x.bound, x.settled.Seconds()/x.bound.Seconds(),
		byLabel(x.zoomCalls), byLabel(x.zoomPeak), x.zoom429)

	// Executions end a moment after their number's last write.
	x.executions, err = s.waitExecutionsEnded(ctx, bulkCustomer+"-"+strings.TrimPrefix(bulkPrefix, "+"), 2*time.Minute)
	if err != nil {
		x.problems = append(x.problems, err.Error())
	}
	x.cpu = cpu0.until(sampleCPU(s.motoPID, h))
	h.stop()
	x.loadAfter = loadAvg()
	if x.history, err = s.historyTotals(ctx, bulkCustomer+"-"+strings.TrimPrefix(bulkPrefix, "+")); err != nil {
		x.problems = append(x.problems, fmt.Sprintf("read the executions' histories: %v", err))
	}
	if x.statuses, err = s.numberStatuses(ctx, bulkCustomer, numbers); err != nil {
		return err
	}
	if n := x.statuses[domain.Released]; n != bulkNumbers {
		x.problems = append(x.problems, fmt.Sprintf("%d of the %d numbers are not RELEASED (%s)", bulkNumbers-n, bulkNumbers, statusCounts(x.statuses)))
	}
	if n := x.executions[sfntypes.ExecutionStatusSucceeded]; n != bulkNumbers {
		x.problems = append(x.problems, fmt.Sprintf("%d of the %d executions did not succeed (%s)", bulkNumbers-n, bulkNumbers, executionCounts(x.executions)))
	}
	if err := s.waitQuiet(time.Minute); err != nil {
		x.problems = append(x.problems, err.Error())
	}
	x.calls = s.calls.Snapshot().Since(calls)
	return nil
}

// bulkNumberList is the first n numbers of the bulk block.
func bulkNumberList(n int) []string {
	numbers := make([]string, n)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("%s%04d", bulkPrefix, i)
	}
	return numbers
}

// putZoomNumbers adds the numbers, unassigned, to the bulk customer's Zoom
// account in the simulator.
func (s *system) putZoomNumbers(numbers []string) error {
	for _, n := range numbers {
		if _, err := s.anon().do("POST", "/zoom-sim/admin/numbers", map[string]any{"account_id": bulkAccount, "number": n}, nil); err != nil {
			return fmt.Errorf("add %s to the simulator: %w", n, err)
		}
	}
	return nil
}

func chunks(numbers []string, size int) [][]string {
	var out [][]string
	for start := 0; start < len(numbers); start += size {
		out = append(out, numbers[start:min(start+size, len(numbers))])
	}
	return out
}

func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// perNumber is the per-number part of a request's or an approval's answer.
type perNumber struct {
	Number string `json:"number"`
	Status string `json:"status"`
	Error  *struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"error"`
}

func requestChunk(prov client, numbers []string) error {
	var out struct {
		Numbers []perNumber `json:"numbers"`
	}
	if _, err := prov.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": bulkCustomer, "numbers": numbers}, &out); err != nil {
		return fmt.Errorf("request the release of %d numbers: %w", len(numbers), err)
	}
	if len(out.Numbers) != len(numbers) {
		return fmt.Errorf("the request's answer names %d numbers; want %d", len(out.Numbers), len(numbers))
	}
	for _, n := range out.Numbers {
		if n.Error != nil || n.Status != string(domain.PendingApproval) {
			return fmt.Errorf("request: %s", describe(n))
		}
	}
	return nil
}

// approveChunk approves numbers and returns those the answer says are
// RELEASING, and those it ran out of time for (unavailable: "send it
// again"); the others are logged. An error is a failed call.
func approveChunk(cust client, numbers []string) (ok, again []string, err error) {
	var out struct {
		Results []perNumber `json:"results"`
	}
	if _, err := cust.do("POST", "/v1/numbers/release", map[string]any{"numbers": numbers}, &out); err != nil {
		return nil, nil, fmt.Errorf("approve %d numbers: %w", len(numbers), err)
	}
	if len(out.Results) != len(numbers) {
		return nil, nil, fmt.Errorf("the approval's answer names %d numbers; want %d", len(out.Results), len(numbers))
	}
	for _, n := range out.Results {
		switch {
		case n.Error == nil && n.Status == string(domain.Releasing):
			ok = append(ok, n.Number)
		case n.Error != nil && n.Error.Code == "unavailable":
			again = append(again, n.Number)
		default:
			logf("   approval: %s", describe(n))
		}
	}
	return ok, again, nil
}

// approveAll approves numbers as the customer app does: the numbers a
// call ran out of time for are sent again, up to resendRounds times, 2, 4
// and 8 s apart. It
// returns the numbers answered RELEASING and how many were sent again.
func approveAll(cust client, numbers []string) (ok []string, sentAgain int, err error) {
	todo := numbers
	for round := 0; round <= resendRounds && len(todo) > 0; round++ {
		if round > 0 {
			time.Sleep(time.Duration(1<<(round-1)) * 2 * time.Second) // as the customer app does
		}
		got, again, err := approveChunk(cust, todo)
		if err != nil && strings.Contains(err.Error(), ": 503 ") {
			continue // busy: the same numbers in the next round, as the customer app does
		}
		if err != nil {
			return ok, sentAgain, err
		}
		ok = append(ok, got...)
		sentAgain += len(again)
		todo = again
	}
	return ok, sentAgain, nil
}

// resendRounds is how often the customer app sends again the numbers a
// call ran out of time for (web/static/customer.js RESEND_ROUNDS).
const resendRounds = 3

func describe(n perNumber) string {
	if n.Error != nil {
		return fmt.Sprintf("%s: %s: %s", n.Number, n.Error.Code, n.Error.Detail)
	}
	return fmt.Sprintf("%s is %s", n.Number, n.Status)
}

// waitSettled polls the customer's RELEASED and FAILED listings every
// second until every one of numbers is in one of them, logging progress
// every 15 s, and records in x how long it took. It gives up when no
// number has settled for stallLimit, or timeout after from, and records
// that in x.
func (s *system) waitSettled(ctx context.Context, numbers []string, from time.Time, zoomBefore zoomsim.Stats, timeout time.Duration, x *throughputResult) error {
	want := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		want[n] = true
	}
	lastLog := time.Now()
	settled, progress := 0, time.Now()
	for {
		released, err := s.listed(ctx, bulkCustomer, domain.Released, want)
		if err != nil {
			return err
		}
		failed, err := s.listed(ctx, bulkCustomer, domain.Failed, want)
		if err != nil {
			return err
		}
		x.released, x.failed = len(released), failed
		if len(released)+len(failed) == len(numbers) {
			x.settled = time.Since(from)
			return nil
		}
		if n := len(released) + len(failed); n != settled {
			settled, progress = n, time.Now()
		}
		stalled := time.Since(progress) > stallLimit
		if stalled || time.Since(from) > timeout {
			x.settled, x.timedOut = time.Since(from), true
			why := fmt.Sprintf("no number had settled for %s", stallLimit)
			if !stalled {
				why = fmt.Sprintf("the bench's limit of %s had passed", timeout)
			}
			x.problems = append(x.problems, fmt.Sprintf("after %s, %d of the %d approved numbers were RELEASED and %d FAILED, and %s; the bench stopped waiting",
				x.settled.Round(time.Second), len(released), len(numbers), len(failed), why))
			return nil
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			st := s.stack.Sim.Stats()
			admitted := map[zoom.Label]int{}
			for _, l := range zoomLabels {
				admitted[l] = st.Calls[l] - zoomBefore.Calls[l]
			}
			logf("   after %s: %d RELEASED, %d FAILED, %s Zoom calls admitted, %d answered 429 by Zoom, %d invokes refused 429 by the Lambda front",
				time.Since(from).Round(time.Second), len(released), len(failed), byLabel(admitted), st.RateLimited-zoomBefore.RateLimited, s.logs.count(msgThrottled))
		}
		time.Sleep(time.Second)
	}
}

func statusCounts(m map[domain.Status]int) string {
	var keys []string
	for st := range m {
		keys = append(keys, string(st))
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", m[domain.Status(k)], k))
	}
	return strings.Join(parts, ", ")
}

func executionCounts(m map[sfntypes.ExecutionStatus]int) string {
	statuses := []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusSucceeded, sfntypes.ExecutionStatusFailed}
	parts := make([]string, 0, len(m))
	for _, st := range statuses {
		parts = append(parts, fmt.Sprintf("%d %s", m[st], st))
	}
	var others []string
	for st, n := range m {
		if st != sfntypes.ExecutionStatusSucceeded && st != sfntypes.ExecutionStatusFailed {
			others = append(others, fmt.Sprintf("%d %s", n, st))
		}
	}
	slices.Sort(others)
	return strings.Join(append(parts, others...), ", ")
}

// byLabel shows counts by Zoom label, e.g. "Light 1000, Medium 1000".
func byLabel(m map[zoom.Label]int) string {
	parts := make([]string, 0, len(zoomLabels))
	for _, l := range zoomLabels {
		parts = append(parts, fmt.Sprintf("%s %d", l, m[l]))
	}
	return strings.Join(parts, ", ")
}

func (r *report) mdThroughput(w printer) {
	w("## 6. Throughput: 1,000 numbers at Zoom Pro limits (emulator), alone and beside a CPU hog")
	w("")
	if len(r.bulk) == 0 {
		w("Not measured.")
		w("")
		return
	}
	first := r.bulk[0]
	w("Each run starts a fresh local system as `make run` does (`shared/harness/devstack` with its defaults: moto with real Step Functions executions, the project's handlers in-process, the Lambda front refusing invocations over the dev stage's account concurrency quota of %d (release-tasks' Zoom work is capped by its lease semaphore at the stage's releaseTasksConcurrency), the workflow started from the table's stream by the starter, the reconciler every %s, the Zoom simulator enforcing Zoom's Pro limits, %d Light-label and %d Medium-label calls per second per account, and the client pacing itself through the DynamoDB rate limiter). %d numbers, unassigned, are added to customer `%s`'s Zoom account in the simulator; provider `%s` requests them in %d requests of %d (`POST /provider/v1/release-requests`), then the customer approves them in %d approvals of %d (`POST /v1/numbers/release`), **back to back**: each request or approval is sent when the one before has answered. The bench then reads the customer's RELEASED and FAILED listings (the index `GET /v1/numbers?status=…` reads, through an uncounted client) every second until every approved number is in one of them (giving up when none has settled for %s, or after %d× the Zoom bound), then waits for the executions to end and reads every number's status.",
		first.capacity, devstack.Defaults().ReconcileEvery, first.limits.Light, first.limits.Medium, bulkNumbers, bulkCustomer, bulkProvider, bulkNumbers/bulkPerCall, bulkPerCall, bulkNumbers/bulkPerCall, bulkPerCall, stallLimit, settleFactor)
	w("")
	w("The second run is the same beside a CPU hog: %d processes `%s` (one per CPU, `runtime.NumCPU()`), started by the bench just before the provider's first request and killed (by their process ids, also on error or a signal) once the executions have ended; they compete with the system for this machine's %s CPUs at the same priority.", hogProcs(), hogCommand, r.nproc)
	w("")
	for _, x := range r.bulk {
		if x.err != nil {
			w("**The run %s stopped early: %s.** Its figures below are what it measured before that.", x.shortLabel(), strings.ReplaceAll(x.err.Error(), "\n", " "))
			w("")
		}
		if len(x.problems) > 0 {
			w("**The run %s did not end with every number RELEASED and every execution SUCCEEDED:**", x.shortLabel())
			w("")
			for _, p := range x.problems {
				w("- %s", p)
			}
			for _, n := range x.failed[:min(3, len(x.failed))] {
				w("- FAILED `%s`: %s", n.Number, trunc(n.Message, 300))
			}
			if x.logFile != "" {
				w("- the system's log was kept at `%s` on the machine that ran the bench", x.logFile)
			}
			w("")
		}
	}
	head := "| figure |"
	sep := "|---|"
	for _, x := range r.bulk {
		head += " " + x.shortLabel() + " |"
		sep += "---:|"
	}
	w("%s", head)
	w("%s", sep)
	row := func(name string, cell func(x *throughputResult) string) {
		line := "| " + name + " |"
		for _, x := range r.bulk {
			line += " " + cell(x) + " |"
		}
		w("%s", line)
	}
	row("outcome", func(x *throughputResult) string {
		if x.complete() && len(x.problems) == 0 {
			return fmt.Sprintf("all %d RELEASED", bulkNumbers)
		}
		return "**NOT all RELEASED** (see above)"
	})
	row("numbers by status at the end", func(x *throughputResult) string { return statusCounts(x.statuses) })
	row("executions by status", func(x *throughputResult) string { return executionCounts(x.executions) })
	for i := 0; i < bulkNumbers/bulkPerCall; i++ {
		row(fmt.Sprintf("provider's request %d (%d numbers)", i+1, bulkPerCall), func(x *throughputResult) string {
			if i < len(x.requests) {
				return x.requests[i].Round(time.Millisecond).String()
			}
			return "—"
		})
	}
	for i := 0; i < bulkNumbers/bulkPerCall; i++ {
		row(fmt.Sprintf("approval %d (%d numbers) answered in (sending again what a call ran out of time for)", i+1, bulkPerCall), func(x *throughputResult) string {
			if i < len(x.approvals) {
				d := x.approvals[i].Round(time.Millisecond).String()
				if x.approvals[i] >= apiGatewayTimeout {
					return fmt.Sprintf("**%s: over API Gateway's %s**", d, apiGatewayTimeout)
				}
				return d
			}
			return "—"
		})
	}
	row("numbers sent again (a call ran out of time for them)", func(x *throughputResult) string { return fmt.Sprint(x.sentAgain) })
	row(fmt.Sprintf("**first approval answered → all %d RELEASED**", bulkNumbers), func(x *throughputResult) string {
		switch {
		case x.settled == 0:
			return "—"
		case x.complete() && !x.timedOut:
			return "**" + x.settled.Round(time.Second).String() + "**"
		case x.timedOut:
			return fmt.Sprintf("**not reached** (gave up after %s)", x.settled.Round(time.Second))
		}
		return fmt.Sprintf("**not reached**: every number settled after %s, %d not RELEASED", x.settled.Round(time.Second), bulkNumbers-x.statuses[domain.Released])
	})
	row(fmt.Sprintf("bound from Zoom's rate limit (%d numbers, each %d Light call at %d per s and %d Medium call at %d per s: the longer)",
		bulkNumbers, bulkZoomCalls[zoom.Light], first.limits.Light, bulkZoomCalls[zoom.Medium], first.limits.Medium), func(x *throughputResult) string { return x.bound.String() })
	row("**ratio to the bound**", func(x *throughputResult) string {
		if x.settled == 0 {
			return "—"
		}
		return fmt.Sprintf("**%.2f**", x.settled.Seconds()/x.bound.Seconds())
	})
	row("first approval sent → all RELEASED (adds the first approval's answer)", func(x *throughputResult) string {
		if x.settled == 0 {
			return "—"
		}
		return (x.answered + x.settled).Round(time.Second).String()
	})
	row("Zoom calls admitted", func(x *throughputResult) string {
		var parts []string
		for _, l := range zoomLabels {
			parts = append(parts, fmt.Sprintf("%s %d (%.2f per number)", l, x.zoomCalls[l], float64(x.zoomCalls[l])/bulkNumbers))
		}
		return strings.Join(parts, ", ")
	})
	row("peak Zoom calls in one second", func(x *throughputResult) string {
		var parts []string
		for _, l := range zoomLabels {
			parts = append(parts, fmt.Sprintf("%s %d (limit %d)", l, x.zoomPeak[l], x.limits.Of(l)))
		}
		return strings.Join(parts, ", ")
	})
	row("answered 429 by the Zoom simulator", func(x *throughputResult) string { return fmt.Sprint(x.zoom429) })
	row(fmt.Sprintf("release-tasks invokes refused 429 by the Lambda front (account quota %d)", first.capacity), func(x *throughputResult) string { return fmt.Sprint(x.lambda429) })
	row("release-tasks invocations (check, release, triage, fail, …)", func(x *throughputResult) string { return invokeCounts(x.calls.Invokes) })
	row(fmt.Sprintf("**billed state transitions per number** (states entered + retries; minimum %d)", minStates(0)), func(x *throughputResult) string {
		h := x.history
		if h.executions == 0 {
			return "—"
		}
		return fmt.Sprintf("**%.1f** (%.2f entered + %.1f retries)", float64(h.entered+h.retries)/float64(h.executions), float64(h.entered)/float64(h.executions), float64(h.retries)/float64(h.executions))
	})
	row("states entered beyond the straight path (Requeued, Triage, AfterTriage, Pause, RecordFailure, or a second check)", func(x *throughputResult) string {
		if x.history.executions == 0 {
			return "—"
		}
		return offPath(x.history)
	})
	row("load average (1, 5, 15 min) before → after", func(x *throughputResult) string { return x.loadBefore + " → " + x.loadAfter })
	w("")
	w("The times are to within the bench's 1 s polling. CPU time used during each run (from the provider's first request until the executions ended; `/proc/<pid>/stat`):")
	w("")
	for _, x := range r.bulk {
		w("- %s: %s.", x.shortLabel(), x.cpu)
	}
	w("")
	w("What the system logged and moto answered during each run (log records at warning level and above, by message and error type, with the first record's error; debug records only for the Lambda front's refusals):")
	w("")
	for _, x := range r.bulk {
		w("- %s: moto: %s.", x.shortLabel(), x.moto)
		for _, lr := range x.logRows {
			if lr.level < slog.LevelWarn && lr.msg != msgThrottled {
				continue
			}
			kind := ""
			if lr.kind != "" {
				kind = " `" + lr.kind + "`"
			}
			sample := ""
			if lr.sample != "" {
				sample = ": " + strings.ReplaceAll(trunc(lr.sample, 200), "|", "\\|")
			}
			w("  - %s \"%s\"%s × %d%s", lr.level, lr.msg, kind, lr.n, sample)
		}
	}
	w("")
	for _, x := range r.bulk {
		if x.calls.Calls == nil {
			continue
		}
		w("AWS calls of the run %s (from before the first request until the last execution ended and the system went quiet), per number:", x.shortLabel())
		w("")
		mdBulkCalls(w, x.calls, bulkNumbers)
		x.mdBulkCauses(w)
	}
	w("What limits these figures: the Zoom budget sets the bound (every release needs one Light call, the check's lookup, and one Medium call, the delete; the account takes %d Light and %d Medium calls per second). The starts are paced: the customer's start queue (`shared/pacing`) gives the approvals turns %s apart (%s for the %d numbers), and each execution waits for its own (`Queued`); a check that finds every release-tasks slot held takes a new turn at the back of the queue and waits again (`Requeued`, counted in the states beyond the straight path). Beyond that, a task that finds no rate-limiter slot within its %.0f s wait fails with `Zoom.Throttled`, an invoke over the account's concurrency quota is refused with `Lambda.TooManyRequestsException` and a release that finds every slot held answers `Tasks.Busy`; the state machine retries all three with backoff and full jitter (delays capped at %d s locally), and after a state's own retries the Triage task decides on a pause (up to %s locally) and a new round; every retry is one more release-tasks invocation, `GetItem`s included. Everything runs on this machine's %s CPUs, moto (one Python process, which runs every execution and answers every AWS call) and the handlers in-process: the time is the emulator's, not a production latency.",
		first.limits.Light, first.limits.Medium, pacing.Interval(first.limits), time.Duration(bulkNumbers)*pacing.Interval(first.limits), bulkNumbers, ratelimit.DefaultMaxWait.Seconds(), devstack.Defaults().ZoomThrottleMaxDelaySeconds, devstack.Defaults().RetryPause, r.nproc)
	w("")
}

// offPath counts the entries of states an unassigned number's straight
// path (Begin, Queued, Init, NextRound, Budget, CheckAssignment, Checked, Route,
// Release, Released, once each) does not have.
func offPath(h historyTotals) string {
	extra := map[string]int{}
	for st, n := range h.byState {
		switch st {
		case "Begin", "Queued", "Init", "NextRound", "Budget", "CheckAssignment", "Checked", "Route", "Release", "Released":
			if n > h.executions {
				extra[st] = n - h.executions
			}
		default:
			extra[st] = n
		}
	}
	if len(extra) == 0 {
		return "none"
	}
	return invokeCounts(extra)
}

func invokeCounts(m map[string]int) string {
	if len(m) == 0 {
		return "—"
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return fmt.Sprintf("%d (%s)", total(m), strings.Join(parts, ", "))
}

// mdBulkCauses says where the bulk run's calls went beyond one number's.
func (x *throughputResult) mdBulkCauses(w printer) {
	updates := x.calls.Calls[devstack.Call{Service: dynamodb.ServiceID, Operation: "UpdateItem"}]
	checks := x.calls.Invokes["check"]
	requeued := x.history.byState["Requeued"]
	w("Beyond one number's cost: `UpdateItem` is the rate limiter's (one per Zoom call admitted, more when a caller finds its window full and takes a slot in a later one), the concurrency slots' (each check takes a slot and gives it back) and the start queues' (one reservation per stream batch, one per busy check that took a new turn): %d of them for %d admitted Zoom calls (%.2f each) and %d turns taken again.",
		updates, total(x.zoomCalls), float64(updates)/float64(max(1, total(x.zoomCalls))), requeued)
	w("")
	failures := map[string]int{}
	for _, lr := range x.logRows {
		if lr.msg == "task failed" {
			failures[lr.kind] += lr.n
		}
	}
	retried := "no task had to run again"
	if len(failures) > 0 {
		retried = "each one beyond that is a task that ran, failed and was retried, reading the number again (task failures logged: " + invokeCounts(failures) + ")"
	}
	if requeued > 0 {
		retried = fmt.Sprintf("%d checks found every slot held and took a new turn (Requeued) instead of retrying; %s", requeued, retried)
	}
	w("release-tasks ran %d check invocations, %.2f per number against 1 (the removals are release-batch's, in batches): %s. The Lambda front refused %d more invokes over the account's quota of %d concurrent ones (429, `Lambda.TooManyRequestsException`): a refused invoke never runs the handler, so it costs none of the project's AWS calls, but each is a retry that moto's Step Functions interpreter schedules and sends again, on the same Python process that answers every AWS call. moto used %.2f CPUs over the run (a Python process runs its Python code on about one CPU at most).",
		checks, float64(checks)/bulkNumbers, retried, x.lambda429, x.capacity, cores(x.cpu.moto, x.cpu.wall))
	w("")
	if x.invokeTime > 0 && x.capacity > 0 {
		perSec := float64(x.capacity) / x.invokeTime.Seconds()
		floor := time.Duration(float64(bulkNumbers*2) / perSec * float64(time.Second))
		w("A release-tasks invocation took %s on average here (the Lambda front's timing of the handler: its reads, the rate limiter's wait for a slot, the Zoom call, its writes). With at most %d running at once, that allows about %.1f invocations per second (%d / %s), and a release needs 2: so the cap alone keeps %d releases from taking less than about %s, against Zoom's bound of %s.",
			x.invokeTime.Round(10*time.Millisecond), x.capacity, perSec, x.capacity, x.invokeTime.Round(10*time.Millisecond), bulkNumbers, floor.Round(time.Second), x.bound)
		w("")
	}
	if h := x.history; h.executions > 0 {
		failed := 0
		for _, lr := range x.logRows {
			if lr.msg == "task failed" {
				failed += lr.n
			}
		}
		billed := float64(h.entered+h.retries) / float64(h.executions)
		w("Billed state transitions: the executions entered %.2f states per number (the straight path is %d) and made %.1f task attempts per number beyond one per Task state entered, the retries: the invokes the Lambda front refused (%d in all) and the tasks that failed and were retried (%d logged). AWS bills each retry as a state transition, so this run would be billed %.1f transitions per number, %.1f× the design's minimum; on AWS the account's concurrency quota answers Step Functions the same 429s when more invocations run at once than it allows.",
			float64(h.entered)/float64(h.executions), minStates(0), float64(h.retries)/float64(h.executions), x.lambda429, failed, billed, billed/float64(minStates(0)))
		w("")
	}
	describes := x.calls.Calls[devstack.Call{Service: sfn.ServiceID, Operation: "DescribeExecution"}]
	queries := x.calls.Calls[devstack.Call{Service: dynamodb.ServiceID, Operation: "Query"}]
	starts := x.calls.Calls[devstack.Call{Service: sfn.ServiceID, Operation: "StartExecution"}]
	rec := func(k string) int64 { return x.reconciled[k] }
	ended := rec("checked") - rec("running") - rec("restarted") - rec("stopped") - rec("failed") - rec("skipped")
	w("The reconciler (every %s, grace %s) read the InFlight index in %d `Query` calls and described %d executions: a number that waits its turn for Zoom in RELEASING without a change for longer than the grace is checked on each run. Its runs reported %d numbers checked: %d with a running execution, %d restarted (approved, but no execution yet: the starter had not reached them within the grace), %d stopped, %d marked FAILED, %d skipped, and %d whose execution had ended by the time it was described, the number already RELEASED (the reconciler's FAILED write then loses its condition and nothing is changed; its report does not count these). `StartExecution` was called %d times for %d approvals (the starter from the stream, and the reconciler's restarts, which find the execution the starter started or start it first: a start is idempotent by name).",
		devstack.Defaults().ReconcileEvery, devstack.Defaults().ReconcileGrace, queries, describes,
		rec("checked"), rec("running"), rec("restarted"), rec("stopped"), rec("failed"), rec("skipped"), ended, starts, bulkNumbers)
	w("")
	if x.complete() {
		puts := x.calls.Calls[devstack.Call{Service: eventbridge.ServiceID, Operation: "PutEvents"}]
		w("The %d status changes (PENDING_APPROVAL, RELEASING, RELEASED for each number; the claim before Zoom changes no status) went out in %d `PutEvents` calls, %.1f events per call: the publisher sends what one stream read returns in calls of up to 10.",
			3*bulkNumbers, puts, float64(3*bulkNumbers)/float64(max(1, puts)))
		w("")
	}
}
