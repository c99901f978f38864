package main

// End-to-end throughput (section 5): 1,000 numbers released through the
// local system (make run's, shared/devstack) against the Zoom simulator at
// Pro limits, in requests and approvals of 500, the API's most per call.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/harness/zoomsim"
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
	// bulkZoomCalls is the Medium-label Zoom calls one release needs: the
	// check's lookup and the delete.
	bulkZoomCalls = 2
)

type throughputResult struct {
	requests, approvals []time.Duration
	// settled is from the first approval's sending until every number is
	// RELEASED or FAILED; released counts the first, failed lists the
	// second.
	settled  time.Duration
	released int
	failed   []domain.Number
	bound    time.Duration
	medium   int // Zoom's Medium limit per second
	calls    devstack.CallCounts
	// Zoom simulator: Medium calls admitted, most in one second, 429s.
	zoomMedium, zoomPeak, zoom429 int
	executions                    map[sfntypes.ExecutionStatus]int
}

func (r *report) throughput() error {
	logFile, err := os.CreateTemp("", "bench-throughput-*.log")
	if err != nil {
		return fmt.Errorf("create the system's log: %w", err)
	}
	defer logFile.Close()
	logf("   system log: %s", logFile.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	sys, err := startSystem(ctx, slog.New(slog.NewJSONHandler(logFile, nil)))
	if err != nil {
		return err
	}
	defer sys.close()
	r.bulk = &throughputResult{}
	if err := sys.releaseBulk(ctx, r.bulk); err != nil {
		return fmt.Errorf("%w (the system's log: %s)", err, logFile.Name())
	}
	if len(r.bulk.failed) > 0 {
		logf("   %d numbers FAILED; the system's log is kept: %s", len(r.bulk.failed), logFile.Name())
		return nil
	}
	return os.Remove(logFile.Name())
}

// releaseBulk runs the 1,000-number release and fills res.
func (s *system) releaseBulk(ctx context.Context, res *throughputResult) error {
	cust, err := s.customer(bulkCustomer)
	if err != nil {
		return err
	}
	prov, err := s.provider(bulkProvider)
	if err != nil {
		return err
	}
	numbers, err := s.putBulkNumbers()
	if err != nil {
		return err
	}
	if err := s.waitQuiet(30 * time.Second); err != nil {
		return err
	}
	calls := s.calls.Snapshot()
	for _, chunk := range chunks(numbers) {
		d, err := timed(func() error { return requestChunk(prov, chunk) })
		if err != nil {
			return err
		}
		res.requests = append(res.requests, d)
		logf("   request of %d numbers: %s", len(chunk), d.Round(time.Millisecond))
	}

	res.medium = devstack.Defaults().ZoomLimits.Medium
	res.bound = time.Duration(bulkNumbers*bulkZoomCalls/res.medium) * time.Second
	zoomBefore := s.stack.Sim.Stats()
	start := time.Now()
	for _, chunk := range chunks(numbers) {
		d, err := timed(func() error { return approveChunk(cust, chunk) })
		if err != nil {
			return err
		}
		res.approvals = append(res.approvals, d)
		logf("   approval of %d numbers: %s", len(chunk), d.Round(time.Millisecond))
	}
	if err := s.waitSettled(ctx, numbers, start, zoomBefore, 4*res.bound, res); err != nil {
		return err
	}
	zoomAfter := s.stack.Sim.Stats()
	res.zoomMedium = zoomAfter.Calls[zoom.Medium] - zoomBefore.Calls[zoom.Medium]
	res.zoomPeak = zoomAfter.PeakPerSecond[zoom.Medium]
	res.zoom429 = zoomAfter.RateLimited - zoomBefore.RateLimited
	logf("   %d RELEASED, %d FAILED %s after the first approval (bound %s, ratio %.2f); Zoom: %d Medium calls, peak %d/s, %d×429",
		res.released, len(res.failed), res.settled.Round(time.Second), res.bound, res.settled.Seconds()/res.bound.Seconds(), res.zoomMedium, res.zoomPeak, res.zoom429)

	if res.executions, err = s.waitExecutionsEnded(ctx, bulkCustomer+"-"+strings.TrimPrefix(bulkPrefix, "+"), 2*time.Minute); err != nil {
		return err
	}
	if err := s.waitQuiet(time.Minute); err != nil {
		return err
	}
	res.calls = s.calls.Snapshot().Since(calls)
	return nil
}

// putBulkNumbers adds the numbers, unassigned, to the customer's Zoom
// account in the simulator.
func (s *system) putBulkNumbers() ([]string, error) {
	numbers := make([]string, bulkNumbers)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("%s%04d", bulkPrefix, i)
		if _, err := s.anon().do("POST", "/zoom-sim/admin/numbers", map[string]any{"account_id": bulkAccount, "number": numbers[i]}, nil); err != nil {
			return nil, fmt.Errorf("add %s to the simulator: %w", numbers[i], err)
		}
	}
	return numbers, nil
}

func chunks(numbers []string) [][]string {
	var out [][]string
	for start := 0; start < len(numbers); start += bulkPerCall {
		out = append(out, numbers[start:min(start+bulkPerCall, len(numbers))])
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
	return expectAll(out.Numbers, len(numbers), "PENDING_APPROVAL")
}

func approveChunk(cust client, numbers []string) error {
	var out struct {
		Results []perNumber `json:"results"`
	}
	if _, err := cust.do("POST", "/v1/numbers/release", map[string]any{"numbers": numbers}, &out); err != nil {
		return fmt.Errorf("approve %d numbers: %w", len(numbers), err)
	}
	return expectAll(out.Results, len(numbers), "RELEASING")
}

// expectAll checks that an answer names want numbers, all in status.
func expectAll(got []perNumber, want int, status string) error {
	if len(got) != want {
		return fmt.Errorf("answer names %d numbers; want %d", len(got), want)
	}
	for _, n := range got {
		if n.Error != nil {
			return fmt.Errorf("%s: %s: %s", n.Number, n.Error.Code, n.Error.Detail)
		}
		if n.Status != status {
			return fmt.Errorf("%s is %s; want %s", n.Number, n.Status, status)
		}
	}
	return nil
}

// waitSettled polls the customer's RELEASED and FAILED listings every
// second until every number is in one of them, logging progress every
// 15 s, and records the outcome in res.
func (s *system) waitSettled(ctx context.Context, numbers []string, start time.Time, zoomBefore zoomsim.Stats, timeout time.Duration, res *throughputResult) error {
	want := make(map[string]bool, len(numbers))
	for _, n := range numbers {
		want[n] = true
	}
	lastLog := time.Now()
	for {
		released, err := s.listed(ctx, bulkCustomer, domain.Released, want)
		if err != nil {
			return err
		}
		failed, err := s.listed(ctx, bulkCustomer, domain.Failed, want)
		if err != nil {
			return err
		}
		if len(released)+len(failed) == len(numbers) {
			res.settled, res.released, res.failed = time.Since(start), len(released), failed
			return nil
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			st := s.stack.Sim.Stats()
			logf("   after %s: %d RELEASED, %d FAILED, %d Medium calls admitted, %d answered 429",
				time.Since(start).Round(time.Second), len(released), len(failed), st.Calls[zoom.Medium]-zoomBefore.Calls[zoom.Medium], st.RateLimited-zoomBefore.RateLimited)
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("after %s, %d of %d numbers RELEASED and %d FAILED", timeout, len(released), len(numbers), len(failed))
		}
		time.Sleep(time.Second)
	}
}

func (r *report) mdThroughput(w printer) {
	x := r.bulk
	w("## 5. Throughput: %d numbers at Zoom Pro limits (emulator)", bulkNumbers)
	w("")
	if x == nil || x.settled == 0 {
		w("Not measured: the run failed (see the failures above).")
		w("")
		return
	}
	w("A fresh local system as `make run` starts it (`shared/devstack`: moto with real Step Functions executions, the project's handlers in-process, the Zoom simulator enforcing Zoom's Pro limits, %d Medium-label calls per second per account, and the client pacing itself through the DynamoDB rate limiter). %d numbers, unassigned, are added to customer `%s`'s Zoom account in the simulator; provider `%s` requests them in %d requests of %d (`POST /provider/v1/release-requests`), then the customer approves them in %d approvals of %d (`POST /v1/numbers/release`), **back to back**: each request or approval is sent when the one before has answered. The bench then reads the customer's RELEASED and FAILED listings (the index `GET /v1/numbers?status=…` reads, through an uncounted client) every second until every number is in one of them.",
		x.medium, bulkNumbers, bulkCustomer, bulkProvider, len(x.requests), bulkPerCall, len(x.approvals), bulkPerCall)
	w("")
	if len(x.failed) > 0 {
		w("**%d of the %d numbers ended FAILED, not RELEASED.** Their recorded reasons (first %d):", len(x.failed), bulkNumbers, min(3, len(x.failed)))
		w("")
		for _, n := range x.failed[:min(3, len(x.failed))] {
			w("- `%s`: %s", n.Number, trunc(n.Message, 300))
		}
		w("")
	}
	w("| figure | value |")
	w("|---|---:|")
	for i, d := range x.requests {
		w("| request %d (%d numbers) | %s |", i+1, bulkPerCall, d.Round(time.Millisecond))
	}
	for i, d := range x.approvals {
		w("| approval %d (%d numbers) | %s (%.1f numbers/s) |", i+1, bulkPerCall, d.Round(time.Millisecond), bulkPerCall/d.Seconds())
	}
	if len(x.failed) == 0 {
		w("| **first approval sent → all %d RELEASED** | **%s** |", bulkNumbers, x.settled.Round(time.Second))
	} else {
		w("| **first approval sent → every number settled (%d RELEASED, %d FAILED)** | **%s** |", x.released, len(x.failed), x.settled.Round(time.Second))
	}
	w("| bound from Zoom's rate limit (%d Medium calls × %d / %d per s) | %s |", bulkZoomCalls, bulkNumbers, x.medium, x.bound)
	w("| **ratio** | **%.2f** |", x.settled.Seconds()/x.bound.Seconds())
	w("| Zoom Medium calls admitted | %d (%.2f per number) |", x.zoomMedium, float64(x.zoomMedium)/bulkNumbers)
	w("| peak Medium calls in one second | %d (limit %d) |", x.zoomPeak, x.medium)
	w("| answered 429 by the simulator | %d |", x.zoom429)
	w("| executions | %s |", executionCounts(x.executions))
	w("")
	w("The time is to within the bench's 1 s polling. AWS calls of the whole run (from before the first request until the last execution ended and the system went quiet), per number:")
	w("")
	mdBulkCalls(w, x.calls, bulkNumbers)
	x.mdBulkCauses(w)
	w("What limits these figures: the Zoom budget sets the bound (every release needs two Medium calls and the account takes %d per second). Beyond it, a task that finds no rate-limiter slot within its wait fails with `Zoom.Throttled` and the state machine retries it with backoff and full jitter (delays capped at %d s locally); every retry is one more release-tasks invocation, `GetItem`s included (the `Invoke` rows above: one check and one release per number would be 1.00 each). Everything runs on this machine's %s CPUs, moto (which runs every execution and answers every AWS call) and the handlers in-process: the time is the emulator's, not a production latency.",
		x.medium, devstack.Defaults().ZoomThrottleMaxDelaySeconds, r.nproc)
	w("")
}

func executionCounts(m map[sfntypes.ExecutionStatus]int) string {
	statuses := []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusSucceeded, sfntypes.ExecutionStatusFailed}
	parts := make([]string, 0, len(m))
	for _, st := range statuses {
		parts = append(parts, fmt.Sprintf("%d %s", m[st], st))
	}
	for st, n := range m {
		if st != sfntypes.ExecutionStatusSucceeded && st != sfntypes.ExecutionStatusFailed {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	return strings.Join(parts, ", ")
}

// mdBulkCauses says where the bulk run's calls went beyond one number's.
func (x *throughputResult) mdBulkCauses(w printer) {
	updates := x.calls.Calls[devstack.Call{Service: dynamodb.ServiceID, Operation: "UpdateItem"}]
	checks, releases := x.calls.Invokes["check"], x.calls.Invokes["release"]
	w("Beyond one number's cost: the rate limiter, the only caller of `UpdateItem`, made %d of them for %d admitted Medium calls (%.2f each, against one): a caller that finds its window full takes a slot in a later one, one more `UpdateItem`, and a task that finds no slot within its %.0f s wait gives up and takes again when the state machine retries it. Retries are why there were %d check and %d release invocations, %.2f per number against 2, each reading the number and the customer again.",
		updates, x.zoomMedium, float64(updates)/float64(max(1, x.zoomMedium)), ratelimit.DefaultMaxWait.Seconds(), checks, releases, float64(checks+releases)/bulkNumbers)
	w("")
	if len(x.failed) == 0 {
		puts := x.calls.Calls[devstack.Call{Service: eventbridge.ServiceID, Operation: "PutEvents"}]
		w("The %d status changes (PENDING_APPROVAL, RELEASING, RELEASED for each number) went out in %d `PutEvents` calls, %.1f events per call: the publisher sends what one stream read returns in calls of up to 10.",
			3*bulkNumbers, puts, float64(3*bulkNumbers)/float64(max(1, puts)))
		w("")
	}
}
