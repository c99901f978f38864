package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/zoomsig"
)

// settle bounds how long the workflow may take for any one step: a few
// re-check intervals plus the emulator's own pace.
func settle() time.Duration { return 4*recheck + 20*time.Second }

type zoomNumber struct {
	AccountID string `json:"account_id"`
	Number    string `json:"number"`
	Assignee  *struct {
		ID, Name, Type string
	} `json:"assignee"`
}

func zoomNumbers(t *testing.T) map[string]zoomNumber {
	t.Helper()
	var out struct {
		Numbers []zoomNumber `json:"numbers"`
	}
	if st := call(t, "GET", "/zoom-sim/admin/numbers", "", nil, &out); st != http.StatusOK {
		t.Fatalf("zoom-sim numbers: %d", st)
	}
	m := map[string]zoomNumber{}
	for _, n := range out.Numbers {
		m[n.Number] = n
	}
	return m
}

// putZoomNumber adds a number to a Zoom account, assigned to a user if
// userID is not empty.
func putZoomNumber(t *testing.T, account, number, userID string) {
	t.Helper()
	body := map[string]any{"account_id": account, "number": number}
	if userID != "" {
		body["assignee"] = map[string]string{"id": userID, "name": "User " + userID, "type": "user"}
	}
	if st := call(t, "POST", "/zoom-sim/admin/numbers", "", body, nil); st/100 != 2 {
		t.Fatalf("zoom-sim add %s: %d", number, st)
	}
}

func unbind(t *testing.T, userID, number string) {
	t.Helper()
	if st := call(t, "DELETE", "/zoom-sim/v2/phone/users/"+userID+"/phone_numbers/"+url.PathEscape(number), "", nil, nil); st != http.StatusNoContent {
		t.Fatalf("unbind %s: %d", number, st)
	}
}

func silentlyUnassign(t *testing.T, number string) {
	t.Helper()
	if st := call(t, "PATCH", "/zoom-sim/admin/numbers/"+url.PathEscape(number), "", `{"assignee":null}`, nil); st/100 != 2 {
		t.Fatalf("zoom-sim unassign %s: %d", number, st)
	}
}

func approve(t *testing.T, c *client, numbers ...string) results {
	t.Helper()
	var r results
	if st := c.do("POST", "/v1/numbers/release", map[string]any{"numbers": numbers}, &r); st != http.StatusAccepted {
		t.Fatalf("approve %v: %d", numbers, st)
	}
	return r
}

// approveAll approves numbers as the customer app does: the numbers a call
// ran out of time for (answered unavailable, "send it again") are sent
// again, 2, 4 and 8 s later at most. It returns one answer per number and how
// many were sent again.
func approveAll(t *testing.T, c *client, numbers ...string) (results, int) {
	t.Helper()
	answers := map[string]int{}
	var all results
	todo, again := numbers, 0
	for round := 0; round <= 3 && len(todo) > 0; round++ {
		if round > 0 {
			time.Sleep(time.Duration(1<<(round-1)) * 2 * time.Second) // as the customer app does
		}
		r := approve(t, c, todo...)
		var next []string
		for _, res := range r.Results {
			if i, seen := answers[res.Number]; seen {
				all.Results[i] = res
			} else {
				answers[res.Number] = len(all.Results)
				all.Results = append(all.Results, res)
			}
			if res.Error != nil && res.Error.Code == "unavailable" {
				next = append(next, res.Number)
			}
		}
		again += len(next)
		todo = next
	}
	return all, again
}

func requestRelease(t *testing.T, p *client, customerID string, numbers ...string) {
	t.Helper()
	if st := p.do("POST", "/provider/v1/release-requests", map[string]any{"customer_id": customerID, "numbers": numbers}, nil); st != http.StatusCreated {
		t.Fatalf("request %v: %d", numbers, st)
	}
}

// The seed's steps 1–8, with the release completing by itself after the unbind.
func TestSeedScenario(t *testing.T) {
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	const free, busy = "+97239754571", "+97239754569"

	// 1–2. The provider's request (made by the demo data) shows in Wait for Release.
	var page struct {
		Items []struct{ Number, Status string } `json:"items"`
	}
	if st := acme.do("GET", "/v1/numbers?status=PENDING_APPROVAL", nil, &page); st != http.StatusOK {
		t.Fatalf("wait for release: %d", st)
	}
	listed := map[string]bool{}
	for _, it := range page.Items {
		listed[it.Number] = true
	}
	if !listed[free] || !listed[busy] {
		t.Fatalf("Wait for Release lists %v; want both seed numbers", page.Items)
	}

	// 2. Tick both, Release numbers.
	approvedAt := time.Now()
	approve(t, acme, "97239754571", "97239754569")

	// 3. The unassigned number is released; the assigned one waits with a message.
	acme.waitStatus(free, "RELEASED", settle())
	t.Logf("approval → RELEASED (unassigned number): %s", time.Since(approvedAt).Round(time.Millisecond))
	waiting := acme.waitStatus(busy, "WAITING_FOR_UNASSIGN", settle())
	if waiting.ZoomAssignee == nil || waiting.ZoomAssignee.Name == "" || !strings.Contains(waiting.Message, "unassign it in Zoom first") {
		t.Fatalf("waiting number = %+v", waiting)
	}
	// The management portal no longer lists the released number; it still lists the other.
	// Every page: other tests leave numbers of acme's too (CANCELLED ones
	// sort first).
	inPortal := map[string]bool{}
	for cursor, pages := "", 0; ; pages++ {
		var portal struct {
			Items      []struct{ Number, Status string } `json:"items"`
			NextCursor string                            `json:"next_cursor"`
		}
		path := "/provider/v1/customers/acme/numbers"
		if cursor != "" {
			path += "?cursor=" + url.QueryEscape(cursor)
		}
		if st := pxc.do("GET", path, nil, &portal); st != http.StatusOK {
			t.Fatalf("portal: %d", st)
		}
		for _, it := range portal.Items {
			inPortal[it.Number] = true
		}
		if cursor = portal.NextCursor; cursor == "" || pages > 100 {
			break
		}
	}
	if inPortal[free] || !inPortal[busy] {
		t.Fatalf("portal lists %d numbers; want %s gone (listed: %v) and %s shown (listed: %v)", len(inPortal), free, inPortal[free], busy, inPortal[busy])
	}
	// The portal's search and status filter: the waiting number by its
	// digits, among several statuses; the released one only with RELEASED.
	for _, tt := range []struct{ query, want string }{
		{"status=WAITING_FOR_UNASSIGN,FAILED&q=" + strings.TrimPrefix(busy, "+"), busy},
		{"status=RELEASED&q=" + url.QueryEscape(free), free},
		{"q=" + strings.TrimPrefix(free, "+"), ""},
	} {
		var page struct {
			Items []struct{ Number, Status string } `json:"items"`
		}
		if st := pxc.do("GET", "/provider/v1/customers/acme/numbers?"+tt.query, nil, &page); st != http.StatusOK {
			t.Fatalf("portal search %s: %d", tt.query, st)
		}
		var got []string
		for _, it := range page.Items {
			got = append(got, it.Number)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("portal search %s lists %v; want %q", tt.query, got, tt.want)
		}
	}
	// On the Zoom side the free number is gone and the busy one is still assigned.
	zn := zoomNumbers(t)
	if _, ok := zn[free]; ok {
		t.Fatalf("%s is still in the Zoom account", free)
	}
	if zn[busy].Assignee == nil {
		t.Fatalf("%s lost its Zoom assignee: %+v", busy, zn[busy])
	}

	// 4–6. The customer unbinds the number in Zoom (which notifies us).
	unboundAt := time.Now()
	unbind(t, waiting.ZoomAssignee.ID, busy)

	// 7–8. The release completes by itself.
	done := acme.waitStatus(busy, "RELEASED", settle())
	t.Logf("unbind → RELEASED: %s", time.Since(unboundAt).Round(time.Millisecond))
	if got := done.path(); got != "PENDING_APPROVAL → RELEASING → WAITING_FOR_UNASSIGN → RELEASING → RELEASED" {
		t.Fatalf("history of %s: %s", busy, got)
	}
	if _, ok := zoomNumbers(t)[busy]; ok {
		t.Fatalf("%s is still in the Zoom account", busy)
	}
	// A manual retry, as in the seed, is harmless.
	r := approve(t, acme, busy)
	if r.Results[0].Status != "RELEASED" {
		t.Fatalf("retry after release = %+v", r.Results[0])
	}
	if d := acme.number(busy); d.Status != "RELEASED" || len(d.History) != 5 {
		t.Fatalf("after retry: %s with %d history entries", d.Status, len(d.History))
	}
}

// newAssignedNumber puts a fresh number, assigned to a user, in acme's Zoom
// account and has pxc ask for it.
func newAssignedNumber(t *testing.T, n, user string) {
	t.Helper()
	putZoomNumber(t, "zoom-acme", n, user)
	requestRelease(t, provider(t, "pxc"), "acme", n)
}

func TestReapprovalWhileWaitingRechecksAtOnce(t *testing.T) {
	acme := customer(t, "acme")
	const n = "+14155550101"
	newAssignedNumber(t, n, "u-101")
	approve(t, acme, n)
	acme.waitStatus(n, "WAITING_FOR_UNASSIGN", settle())
	silentlyUnassign(t, n)
	r := approve(t, acme, n)
	if r.Results[0].Status != "WAITING_FOR_UNASSIGN" {
		t.Fatalf("re-approval result = %+v", r.Results[0])
	}
	acme.waitStatus(n, "RELEASED", settle())
	if stack != nil {
		events := historyOf(t, "acme", n, 1)
		if !strings.Contains(events, "TaskSucceeded(WaitForUnassign)") {
			t.Fatalf("the wait did not end by callback: %s", events)
		}
	}
}

func TestSilentUnassignIsReleasedByTheTimer(t *testing.T) {
	acme := customer(t, "acme")
	const n = "+14155550102"
	newAssignedNumber(t, n, "u-102")
	approve(t, acme, n)
	acme.waitStatus(n, "WAITING_FOR_UNASSIGN", settle())
	silentlyUnassign(t, n) // no notification at all
	acme.waitStatus(n, "RELEASED", settle())
	if stack != nil {
		events := historyOf(t, "acme", n, 1)
		if !strings.Contains(events, "TaskTimedOut(WaitForUnassign)") || strings.Contains(events, "TaskSucceeded(WaitForUnassign)") {
			t.Fatalf("the release did not come from the re-check timer: %s", events)
		}
	}
}

func TestZoomFailingEndsFailedWithReasonThenRetryWorks(t *testing.T) {
	if stack == nil && retryBudget > time.Minute {
		t.Skipf("the system retries Zoom trouble for %s before FAILED; this test runs in-process, with a short budget", retryBudget)
	}
	acme := customer(t, "acme")
	const n = "+14155550103"
	putZoomNumber(t, "zoom-acme", n, "")
	requestRelease(t, provider(t, "pxc"), "acme", n)
	setFault(t, `{"status":503,"count":-1,"path_prefix":"/zoom-sim/v2/number_management/numbers"}`)
	approve(t, acme, n)
	// Zoom stays down past the retry budget (short in these tests).
	failed := acme.waitStatus(n, "FAILED", settle()+10*retryBudget)
	setFault(t, "")
	if !strings.Contains(failed.Message, "Zoom was unavailable") {
		t.Fatalf("FAILED message = %q", failed.Message)
	}
	// The customer may approve again; attempt 2 releases.
	approve(t, acme, n)
	done := acme.waitStatus(n, "RELEASED", settle())
	if got := done.path(); got != "PENDING_APPROVAL → RELEASING → FAILED → RELEASING → RELEASED" {
		t.Fatalf("history: %s", got)
	}
}

func setFault(t *testing.T, body string) {
	t.Helper()
	method := "POST"
	if body == "" {
		method = "DELETE"
	}
	var b any
	if body != "" {
		b = body
	}
	if st := call(t, method, "/zoom-sim/admin/faults", "", b, nil); st/100 != 2 {
		t.Fatalf("zoom-sim fault %s: %d", body, st)
	}
}

func TestDuplicateNotificationsReleaseOnce(t *testing.T) {
	if stack == nil {
		t.Skip("needs the local webhook secret to sign notifications")
	}
	acme := customer(t, "acme")
	const n = "+14155550104"
	newAssignedNumber(t, n, "u-104")
	approve(t, acme, n)
	acme.waitStatus(n, "WAITING_FOR_UNASSIGN", settle())
	silentlyUnassign(t, n)
	// Zoom redelivers: the same notification five times, at once.
	body := fmt.Sprintf(`{"event":"number_release.phone_number.unassigned","event_ts":%d,"payload":{"account_id":"zoom-acme","object":{"phone_number":%q}}}`,
		time.Now().UnixMilli(), n)
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", base+"/zoom/webhook", strings.NewReader(body))
			ts := time.Now()
			req.Header.Set(zoomsig.HeaderTimestamp, fmt.Sprint(ts.Unix()))
			req.Header.Set(zoomsig.HeaderSignature, zoomsig.Sign([]byte("local-webhook-secret"), ts, []byte(body)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				if resp.StatusCode/100 == 2 {
					ok.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d of 5 deliveries answered 2xx", ok.Load())
	}
	d := acme.waitStatus(n, "RELEASED", settle())
	if got := d.path(); got != "PENDING_APPROVAL → RELEASING → WAITING_FOR_UNASSIGN → RELEASING → RELEASED" {
		t.Fatalf("history: %s", got)
	}
	// Exactly one execution for this approval, and it succeeded.
	if got := executionsOf(t, "acme", n); got != "acme-14155550104-1:SUCCEEDED" {
		t.Fatalf("executions: %s", got)
	}
}

func TestCancelWhileWaitingStopsTheWorkflow(t *testing.T) {
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	const n = "+14155550105"
	newAssignedNumber(t, n, "u-105")
	approve(t, acme, n)
	acme.waitStatus(n, "WAITING_FOR_UNASSIGN", settle())
	var res struct{ Status string }
	if st := pxc.do("DELETE", "/provider/v1/customers/acme/numbers/"+url.PathEscape(n)+"/release-request", nil, &res); st != http.StatusOK || res.Status != "CANCELLED" {
		t.Fatalf("cancel: %d %+v", st, res)
	}
	if stack != nil {
		deadline := time.Now().Add(settle())
		for executionsOf(t, "acme", n) != "acme-14155550105-1:SUCCEEDED" {
			if time.Now().After(deadline) {
				t.Fatalf("the cancelled number's workflow did not end: %s", executionsOf(t, "acme", n))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if d := acme.number(n); d.Status != "CANCELLED" {
		t.Fatalf("after cancel: %s", d.Status)
	}
	if zn := zoomNumbers(t)[n]; zn.Assignee == nil {
		t.Fatalf("a cancelled number was touched in Zoom: %+v", zn)
	}
}

// executionsOf lists "name:STATUS" of the executions of one number.
func executionsOf(t *testing.T, customerID, n string) string {
	t.Helper()
	prefix := customerID + "-" + strings.TrimPrefix(n, "+") + "-"
	var got []string
	p := sfn.NewListExecutionsPaginator(stack.SFN, &sfn.ListExecutionsInput{StateMachineArn: aws.String(stack.StateMachineARN), MaxResults: 1000})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Executions {
			if strings.HasPrefix(aws.ToString(e.Name), prefix) {
				got = append(got, aws.ToString(e.Name)+":"+string(e.Status))
			}
		}
	}
	sort.Strings(got)
	return strings.Join(got, ",")
}

// historyOf summarises an execution's task events as "Type(State)".
func historyOf(t *testing.T, customerID, n string, attempt int) string {
	t.Helper()
	arn := strings.Replace(stack.StateMachineARN, ":stateMachine:", ":execution:", 1) +
		fmt.Sprintf(":%s-%s-%d", customerID, strings.TrimPrefix(n, "+"), attempt)
	out, err := stack.SFN.GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	state := ""
	for _, e := range out.Events {
		if e.StateEnteredEventDetails != nil {
			state = aws.ToString(e.StateEnteredEventDetails.Name)
		}
		switch e.Type {
		case sfntypes.HistoryEventTypeTaskSucceeded, sfntypes.HistoryEventTypeTaskTimedOut, sfntypes.HistoryEventTypeTaskFailed:
			parts = append(parts, fmt.Sprintf("%s(%s)", e.Type, state))
		}
	}
	return strings.Join(parts, " ")
}

type execution struct{ name, status string }

// splitExecutions reads executionsOf's "name:STATUS,..." list.
func splitExecutions(list string) []execution {
	var out []execution
	for _, part := range strings.Split(list, ",") {
		if name, status, ok := strings.Cut(part, ":"); ok {
			out = append(out, execution{name, status})
		}
	}
	return out
}
