package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/config"
	"numberrelease/shared/number"
	"numberrelease/shared/pacing"
	"numberrelease/shared/zoom"
)

// TestBulkApprovalWithinZoomRateLimits approves a large request at once
// against a Zoom account held to Pro limits (Light 20, Medium 10 calls per
// second, enforced by the simulator), with release-tasks capped at the dev
// stage's concurrency as on AWS. Each release costs a Light lookup and a
// Medium delete, so the account's budget alone takes numbers / 10 s; the
// start queue spaces the starts pacing.Interval apart, which takes longer.
// It checks what a customer would notice, not speed: every number ends
// RELEASED (none FAILED, none stuck), one execution each, every history a
// valid chain, and every number gone from Zoom. Its deadline is 10 times
// the longer of the two and starts once the approval has answered.
// Throughput is measured by `make bench`, not here.
//
// The size is E2E_BULK_NUMBERS (1–500), default 100 (at the service's
// 50% share of Zoom's limits that is about as long as 200 were at 100%). In-process only (it
// lists executions on the emulator); -short skips it.
func TestBulkApprovalWithinZoomRateLimits(t *testing.T) {
	if stack == nil {
		t.Skip("needs the in-process system (simulator counters, executions)")
	}
	if testing.Short() {
		t.Skip("bulk approval takes minutes; skipped in -short mode")
	}
	const prefix = "+9723977"
	count := 100
	if n, err := strconv.Atoi(os.Getenv("E2E_BULK_NUMBERS")); err == nil && n > 0 && n <= 500 {
		count = n
	}
	limits := zoom.ProLimits().Share(config.DefaultZoomRateShare) // the service's fair share (make run's default)
	bound := max(time.Duration(count)*time.Second/time.Duration(limits.Light), time.Duration(count)*time.Second/time.Duration(limits.Medium))
	paced := time.Duration(count) * pacing.Interval(limits)
	deadline := 10 * max(bound, paced, settle())

	numbers := make([]string, count)
	for i := range numbers {
		n, err := number.Parse(fmt.Sprintf("%s%04d", prefix, i))
		if err != nil {
			t.Fatal(err)
		}
		numbers[i] = n
		putZoomNumber(t, "zoom-globex", n, "")
	}
	globex, pxc := customer(t, "globex"), provider(t, "pxc")
	requestRelease(t, pxc, "globex", numbers...)

	before := stack.Sim.Stats()
	approvedAt := time.Now()
	r, sentAgain := approveAll(t, globex, numbers...)
	answered := time.Now()
	for _, res := range r.Results {
		if res.Error != nil || res.Status != "RELEASING" {
			t.Fatalf("approval of %s: %+v", res.Number, res)
		}
	}

	// Watch the simulator (in-process, no load on the emulator) until every
	// number is gone from the Zoom account, then the customer's RELEASED
	// list until all are in it.
	want := map[string]bool{}
	for _, n := range numbers {
		want[n] = true
	}
	lastLog := time.Now()
	for {
		gone := count - countIn(zoomNumbers(t), want)
		if gone == count && countReleased(t, globex, want) == count {
			break
		}
		if time.Since(lastLog) >= 30*time.Second {
			lastLog = time.Now()
			st := stack.Sim.Stats()
			t.Logf("after %s: %d removed from Zoom, %d Light and %d Medium calls admitted, %d answered 429",
				time.Since(answered).Round(time.Second), gone, st.Calls[zoom.Light]-before.Calls[zoom.Light], st.Calls[zoom.Medium]-before.Calls[zoom.Medium],
				st.RateLimited-before.RateLimited)
		}
		if time.Since(answered) > deadline {
			t.Fatalf("%d of %d numbers removed from Zoom, %d RELEASED %s after the approval answered; first ones not released:\n%s",
				gone, count, countReleased(t, globex, want), deadline, notReleased(t, globex, numbers, 5))
		}
		time.Sleep(500 * time.Millisecond)
	}
	after := stack.Sim.Stats()
	t.Logf("%d numbers: approval answered in %s (%d sent again after running out of time), all RELEASED %s later (Zoom bound %s, paced starts %s); %d Light calls (peak %d per second), %d Medium (peak %d), %d answered 429",
		count, answered.Sub(approvedAt).Round(time.Millisecond), sentAgain, time.Since(answered).Round(time.Second), bound, paced,
		after.Calls[zoom.Light]-before.Calls[zoom.Light], after.PeakPerSecond[zoom.Light],
		after.Calls[zoom.Medium]-before.Calls[zoom.Medium], after.PeakPerSecond[zoom.Medium], after.RateLimited-before.RateLimited)

	// A number is RELEASED by the workflow's last task, a moment before its
	// execution closes: wait for every execution to close (seconds, even
	// beside a busy CPU; up to 3 minutes).
	var failed []string
	var succeeded int
	for closing := time.Now(); ; time.Sleep(time.Second) {
		failed, succeeded = executionsByStatus(t, "globex-"+strings.TrimPrefix(prefix, "+"))
		if len(failed)+succeeded >= count || time.Since(closing) > 3*time.Minute {
			break
		}
	}
	if len(failed) > 0 || succeeded != count {
		t.Fatalf("executions: %d SUCCEEDED, %d FAILED %v; want %d SUCCEEDED, none FAILED", succeeded, len(failed), failed[:min(len(failed), 10)], count)
	}
	for _, n := range numbers {
		d := globex.number(n)
		if msg := d.chainError(); msg != "" {
			t.Fatalf("history of %s is not a valid chain: %s (%s)", n, msg, d.path())
		}
		if got := d.path(); got != "PENDING_APPROVAL → RELEASING → RELEASED" {
			t.Fatalf("history of %s: %s", n, got)
		}
	}
}

// countReleased counts the numbers of want in the customer's RELEASED list.
func countReleased(t *testing.T, c *client, want map[string]bool) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		path := "/v1/numbers?status=RELEASED&limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items []struct {
				Number, Status string
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		if st := c.do("GET", path, nil, &page); st != http.StatusOK {
			t.Fatalf("released list: %d", st)
		}
		for _, it := range page.Items {
			if want[it.Number] && it.Status == "RELEASED" {
				n++
			}
		}
		if page.NextCursor == "" {
			return n
		}
		cursor = page.NextCursor
	}
}

// executionsByStatus lists the FAILED executions whose names start with
// prefix and counts the SUCCEEDED ones.
func executionsByStatus(t *testing.T, prefix string) (failed []string, succeeded int) {
	t.Helper()
	for _, status := range []sfntypes.ExecutionStatus{sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusSucceeded} {
		p := sfn.NewListExecutionsPaginator(stack.SFN, &sfn.ListExecutionsInput{
			StateMachineArn: aws.String(stack.StateMachineARN), StatusFilter: status, MaxResults: 100,
		})
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range out.Executions {
				name := aws.ToString(e.Name)
				if !strings.HasPrefix(name, prefix) {
					continue
				}
				if status == sfntypes.ExecutionStatusFailed {
					failed = append(failed, name)
				} else {
					succeeded++
				}
			}
		}
	}
	return failed, succeeded
}

func countIn(zn map[string]zoomNumber, want map[string]bool) int {
	n := 0
	for k := range zn {
		if want[k] {
			n++
		}
	}
	return n
}

// notReleased describes up to limit numbers of numbers that are not RELEASED:
// status, message, last history entries, and the tail of their first
// execution's history, so a stuck release can be diagnosed from the log.
func notReleased(t *testing.T, c *client, numbers []string, limit int) string {
	t.Helper()
	var b strings.Builder
	for _, n := range numbers {
		d := c.number(n)
		if d.Status == "RELEASED" {
			continue
		}
		if limit--; limit < 0 {
			break
		}
		fmt.Fprintf(&b, "%s: %s %q; history:", n, d.Status, d.Message)
		for _, h := range d.History[max(0, len(d.History)-3):] {
			fmt.Fprintf(&b, " %s→%s (%s, %s);", h.From, h.To, h.Actor, h.Why)
		}
		fmt.Fprintf(&b, "\n  last events: %s\n", historyTail(t, "globex", n, 1, 12))
	}
	return b.String()
}

// historyTail gives an execution's status and last events with their errors.
func historyTail(t *testing.T, customerID, n string, attempt, last int) string {
	t.Helper()
	arn := strings.Replace(stack.StateMachineARN, ":stateMachine:", ":execution:", 1) +
		fmt.Sprintf(":%s-%s-%d", customerID, strings.TrimPrefix(n, "+"), attempt)
	out, err := stack.SFN.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return "history: " + err.Error()
	}
	status := "status unknown"
	if d, err := stack.SFN.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)}); err == nil {
		status = string(d.Status)
	}
	parts := []string{status + ":"}
	for _, e := range out.Events[max(0, len(out.Events)-last):] {
		part := fmt.Sprintf("%s@%s", e.Type, aws.ToTime(e.Timestamp).Format("15:04:05.000"))
		switch {
		case e.TaskFailedEventDetails != nil:
			part += fmt.Sprintf("(%s: %s)", aws.ToString(e.TaskFailedEventDetails.Error), trimTo(aws.ToString(e.TaskFailedEventDetails.Cause), 160))
		case e.LambdaFunctionFailedEventDetails != nil:
			part += fmt.Sprintf("(%s: %s)", aws.ToString(e.LambdaFunctionFailedEventDetails.Error), trimTo(aws.ToString(e.LambdaFunctionFailedEventDetails.Cause), 160))
		case e.TaskTimedOutEventDetails != nil:
			part += fmt.Sprintf("(%s)", aws.ToString(e.TaskTimedOutEventDetails.Error))
		case e.StateEnteredEventDetails != nil:
			part += "(" + aws.ToString(e.StateEnteredEventDetails.Name) + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " ")
}

func trimTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
