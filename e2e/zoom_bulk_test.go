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

	"numberrelease/shared/number"
	"numberrelease/shared/zoom"
)

// TestBulkApprovalWithinZoomRateLimits approves a large request at once
// against a Zoom account held to Pro limits (Medium: 10 calls per second,
// enforced by the simulator). Each release costs two Medium calls (the
// check's list, the release's delete by id), so the account's budget bounds
// the whole at numbers × 2 / 10 s. The client paces itself through the
// shared DynamoDB limiter and the state machine retries Zoom.Throttled with
// jitter, so every number must end RELEASED, no execution FAILED, and the
// simulator should have no call to refuse.
//
// The size is E2E_BULK_NUMBERS (1–500), default 100. 500 (the largest
// request) is the production case, but on moto 5.2.5 it is the emulator,
// not Zoom, that gives out: every TransactWriteItems deep-copies the whole
// table, stream included, once per item, so a 500-number request alone
// takes about a minute, the approval's writes and starts several more, and
// the task Lambdas' DynamoDB calls then queue past their 30 s timeout.
// At 100 numbers moto keeps up (about 50 s in all, the approval call about
// 18 s of it).
//
// In-process only (it reads the simulator's counters and lists executions
// on the emulator); -short skips it.
func TestBulkApprovalWithinZoomRateLimits(t *testing.T) {
	if stack == nil {
		t.Skip("needs the in-process system (simulator counters, executions)")
	}
	if testing.Short() {
		t.Skip("bulk approval takes about a minute; skipped in -short mode")
	}
	const (
		prefix   = "+9723977"
		deadline = 6 * time.Minute
	)
	count := 100
	if n, err := strconv.Atoi(os.Getenv("E2E_BULK_NUMBERS")); err == nil && n > 0 && n <= 500 {
		count = n
	}
	limits := zoom.ProLimits()
	bound := time.Duration(count*2/limits.Medium) * time.Second

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
	requested := time.Now()
	requestRelease(t, pxc, "globex", numbers...)
	t.Logf("request of %d numbers: %s", count, time.Since(requested).Round(time.Millisecond))

	before := stack.Sim.Stats()
	start := time.Now()
	r := approve(t, globex, numbers...)
	approved := time.Since(start)
	for _, res := range r.Results {
		if res.Error != nil || res.Status != "RELEASING" {
			t.Fatalf("approval of %s: %+v", res.Number, res)
		}
	}

	// Poll the customer's released list until all 500 are in it.
	want := map[string]bool{}
	for _, n := range numbers {
		want[n] = true
	}
	var released int
	lastLog := time.Now()
	for {
		released = countReleased(t, globex, want)
		if released == count {
			break
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			st := stack.Sim.Stats()
			t.Logf("after %s: %d RELEASED, %d Medium calls admitted, %d answered 429",
				time.Since(start).Round(time.Second), released, st.Calls[zoom.Medium]-before.Calls[zoom.Medium], st.RateLimited-before.RateLimited)
		}
		if time.Since(start) > deadline {
			t.Fatalf("%d of %d numbers RELEASED after %s", released, count, deadline)
		}
		time.Sleep(time.Second)
	}
	elapsed := time.Since(start)
	after := stack.Sim.Stats()

	failed, succeeded := executionsByStatus(t, "globex-"+strings.TrimPrefix(prefix, "+"))
	limited := after.RateLimited - before.RateLimited
	medium := after.Calls[zoom.Medium] - before.Calls[zoom.Medium]
	t.Logf("bulk approval: %d numbers RELEASED in %s (approval call %s); bound %s (2 Medium calls × %d / %d per s); ratio %.2f",
		count, elapsed.Round(time.Millisecond), approved.Round(time.Millisecond), bound, count, limits.Medium, elapsed.Seconds()/bound.Seconds())
	t.Logf("Zoom simulator: %d Medium calls admitted, peak %d per second, %d answered 429; executions: %d SUCCEEDED, %d FAILED",
		medium, after.PeakPerSecond[zoom.Medium], limited, succeeded, len(failed))

	if len(failed) > 0 {
		t.Fatalf("%d executions FAILED: %v", len(failed), failed[:min(len(failed), 10)])
	}
	if succeeded != count {
		t.Fatalf("%d executions SUCCEEDED; want %d", succeeded, count)
	}
	if gone := zoomNumbers(t); countIn(gone, want) != 0 {
		t.Fatalf("%d released numbers are still in the Zoom account", countIn(gone, want))
	}
	if medium < 2*count {
		t.Fatalf("%d Medium calls for %d releases; want at least 2 each", medium, count)
	}
	// The pacing keeps every window within the limit, so Zoom should never
	// have to refuse a call; the emulator's DynamoDB does not promise atomic
	// ADDs under concurrency, so a stray 429 is tolerated (and retried).
	if limited > max(2, count/50) {
		t.Errorf("the simulator answered %d 429s; the client's pacing should keep that near zero", limited)
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
