package main

// AWS calls per released number (section 4): what devstack's CallCounter
// measured around each single-number release, set against the fewest the
// design needs (shared/release, shared/starter, shared/tasks, shared/store,
// shared/notify, shared/ratelimit, shared/workflow/release.asl.json).

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/harness/devstack"
)

// invokeService names the release-tasks invocations Step Functions makes
// (counted at the Lambda front, not through the project's SDK).
const invokeService = "Lambda"

// invokeCall names the invocations of one release-tasks action.
func invokeCall(action string) devstack.Call {
	return devstack.Call{Service: invokeService, Operation: "Invoke " + action}
}

// minimum is the fewest calls of one operation a release needs and why;
// above, when set, says what makes the calls measured beyond it.
type minimum struct {
	call  devstack.Call
	n     int
	why   string
	above func(measured int) string
}

// minStates is the fewest states an execution enters for a release with
// waits waits: Begin, Queued (the paced start) and Init; per round (one per check) NextRound,
// Budget, CheckAssignment, Checked and Route; WaitForUnassign per wait;
// Release and Released.
func minStates(waits int) int {
	return 3 + 5*(1+waits) + waits + 2
}

// minimums is the design's minimum for one number approved once: checks
// and waits from its execution history, hints the unbind notifications
// that woke it.
func minimums(waits, hints int) []minimum {
	checks := 1 + waits
	// Status changes: PENDING_APPROVAL, RELEASING, RELEASED, and for a
	// number that waited WAITING_FOR_UNASSIGN and back to RELEASING (a
	// second wait of a waiting number changes no status).
	changes := 3
	if waits > 0 {
		changes += 2
	}
	writes := 4 + waits
	gets := 2 + checks + waits + 2*hints
	claim := "the number alone, RELEASING with `removal_started`: no status change"
	waited := ""
	if waits > 0 {
		claim = "WAITING_FOR_UNASSIGN → RELEASING with `removal_started` and its history entry"
		waited = fmt.Sprintf("each wait's WAITING_FOR_UNASSIGN with its history entry (%d); ", waits)
	}
	ddb := func(op string) devstack.Call { return devstack.Call{Service: dynamodb.ServiceID, Operation: op} }
	sf := func(op string) devstack.Call { return devstack.Call{Service: sfn.ServiceID, Operation: op} }
	return []minimum{
		{call: ddb("GetItem"), n: gets,
			why: fmt.Sprintf("api: the request's provider–customer link (1); release-tasks: the number before each check (%d) and wait (%d), and release-batch before the release (1), for ownership and the version its conditional writes need (the release's claim and RELEASED write reuse that read); webhook: per unbind notification the account's customer and the number's task token (%d). The customer's Zoom account is not counted: a warm release-tasks instance reads it once per customer and 5 minutes", checks, waits, 2*hints),
			above: func(measured int) string {
				return accountFor(measured-gets, 1, "release-tasks read the customer's Zoom account (1): the first execution for this customer in a fresh instance; later ones, in this bench the next path's, use the 5-minute cache")
			}},
		{call: ddb("BatchGetItem"), n: 2,
			why: "api: the state of the requested numbers, then of the approved ones, before their conditional writes (1 per 100 numbers each)"},
		{call: ddb("TransactWriteItems"), n: writes,
			why: fmt.Sprintf("api: the request's PENDING_APPROVAL (1) and the approval's RELEASING (1), each with its history entry (up to 50 numbers per transaction); release-tasks: %sthe release's claim before it asks Zoom (1: %s), so that a cancel cannot win after Zoom removed the number; RELEASED with its history entry (1). %d status changes in all", waited, claim, changes)},
		{call: ddb("UpdateItem"), n: 1 + (checks + 1) + 2*checks,
			why: fmt.Sprintf("start-release: the customer's start queue, one reservation per stream batch (1); the rate limiter: one slot per Zoom call, each check's lookup (%d) and release-batch's delete (1); release-tasks' concurrency slots: each check takes a slot and gives it back (%d)", checks, 2*checks),
			above: func(measured int) string {
				return "the rate limiter (shared/ratelimit) makes a second UpdateItem for a call only when its first answers after the one-second window it counted in has ended (a slow table: here the emulator) or finds that window full; the bench does not see which"
			}},
		{call: ddb("Query"), n: checks,
			why: fmt.Sprintf("release-tasks' concurrency slots: each check reads the slots before it takes one (%d); release-batch takes no slot (its event source mapping caps it)", checks)},
		{call: sf("StartExecution"), n: 1,
			why: "start-release: one execution per approval, started from the approval's history record on the table's stream (the API no longer starts it; it calls Start only when a RELEASING number is approved again)"},
		{call: sf("SendTaskSuccess"), n: hints + 1, why: fmt.Sprintf("webhook: the unbind notification wakes the waiting task (%d); release-batch answers the Release state's task token (1)", hints)},
		{call: devstack.Call{Service: eventbridge.ServiceID, Operation: "PutEvents"}, n: 1,
			why: fmt.Sprintf("notify: the flow's %d status-change events fit one call (up to 10 per call)", changes),
			above: func(measured int) string {
				return fmt.Sprintf("the %d status-change events went out in %d calls: the publisher sends what one read of the stream returns (devstack's poller reads every 200 ms; on AWS the notify function's event source mapping, which sets no batching window, hands it one batch per invocation), so changes written in different reads take separate calls", changes, measured)
			}},
		{call: invokeCall("check"), n: checks, why: "CheckAssignment: one per Zoom lookup"},
		{call: invokeCall("wait"), n: waits, why: "WaitForUnassign: stores the task token"},
	}
}

// callRow is one operation's measured count next to its minimum.
type callRow struct {
	minimum
	measured int
}

// callRows joins the measured counts (the stream poller's aside) with the
// minimums; operations neither made nor needed are left out.
func callRows(c devstack.CallCounts, mins []minimum) []callRow {
	measured := map[devstack.Call]int{}
	for call, n := range c.Calls {
		// The pollers standing in for the event source mappings read the
		// stream and the release queue; on AWS, Lambda makes those calls.
		if call.Service != dynamodbstreams.ServiceID && call.Service != sqs.ServiceID {
			measured[call] = n
		}
	}
	for action, n := range c.Invokes {
		measured[invokeCall(action)] = n
	}
	var rows []callRow
	for _, m := range mins {
		if m.n > 0 || measured[m.call] > 0 {
			rows = append(rows, callRow{minimum: m, measured: measured[m.call]})
		}
		delete(measured, m.call)
	}
	for call, n := range measured {
		rows = append(rows, callRow{minimum: minimum{call: call, why: "not on the design's path"}, measured: n})
	}
	slices.SortStableFunc(rows, func(a, b callRow) int { return cmp.Compare(rank(a.call), rank(b.call)) })
	return rows
}

// madeBy says who makes an operation's calls in these runs (the design's
// callers; the counter itself does not tell them apart); rank orders them
// in tables.
func madeBy(c devstack.Call) string {
	switch c.Service {
	case invokeService:
		return "Step Functions (counted at the Lambda front)"
	case dynamodbstreams.ServiceID:
		return "devstack's stream pollers (notify's and start-release's)"
	}
	by := map[devstack.Call]string{
		{Service: dynamodb.ServiceID, Operation: "GetItem"}:            "api, release-tasks, webhook",
		{Service: dynamodb.ServiceID, Operation: "BatchGetItem"}:       "api",
		{Service: dynamodb.ServiceID, Operation: "TransactWriteItems"}: "api, release-tasks",
		{Service: dynamodb.ServiceID, Operation: "UpdateItem"}:         "release-tasks (rate limiter, slots, start queue), start-release (start queue)",
		{Service: dynamodb.ServiceID, Operation: "Query"}:              "release-tasks (slots), reconciler",
		{Service: sfn.ServiceID, Operation: "StartExecution"}:          "start-release",
		{Service: sfn.ServiceID, Operation: "SendTaskSuccess"}:         "webhook",
		{Service: sfn.ServiceID, Operation: "DescribeExecution"}:       "reconciler",
		{Service: sfn.ServiceID, Operation: "StopExecution"}:           "reconciler",
		{Service: eventbridge.ServiceID, Operation: "PutEvents"}:       "notify",
	}[c]
	if by == "" {
		return "project (SDK)"
	}
	return by + " (SDK)"
}

func rank(c devstack.Call) int {
	switch c.Service {
	case invokeService:
		return 1
	case dynamodbstreams.ServiceID:
		return 2
	}
	return 0
}

func sumCalls(m map[devstack.Call]int, keep func(devstack.Call) bool) int {
	n := 0
	for c, v := range m {
		if keep(c) {
			n += v
		}
	}
	return n
}

func total[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func projectCall(c devstack.Call) bool {
	return c.Service != dynamodbstreams.ServiceID
}

// mdCalls writes the AWS calls of each single-number release.
func (r *report) mdCalls(w printer) {
	w("### AWS calls per released number")
	w("")
	w("Counted on the same runs by an SDK middleware (`devstack.CallCounter`, installed through `devstack.Config.AWSCalls` in the `APIOptions` of every SDK client the local system wires: the store's and the rate limiter's DynamoDB, Step Functions (the API's, the starter's and the reconciler's), EventBridge, the stream pollers' DynamoDB Streams): one count per operation call, from a snapshot before the provider's request to one after the release, taken once no counted call has been made for 1 s (so the last change's `PutEvents` is in). The bench's own polling and history reads use separate, uncounted clients. The release-tasks invocations are Step Functions' calls, not the project's: they never pass through its SDK and are counted where the Lambda front runs the handler, by action. The minimum is the fewest calls the design needs for the path (one approval, the waits seen in the history, the unbind notifications sent); \"made by\" names the functions whose code makes them (the counter counts by operation, not by caller).")
	w("")
	w("What the new design added per release, against the one before it: the claim write before Zoom (one `TransactWriteItems`), the Init and Checked pass states (two state transitions, three with a wait), and, for the history bound, the Begin choice and the NextRound and Budget states of every round (three transitions, five with a wait), and a second stream consumer (start-release) which now makes the `StartExecution` the API used to make: the same one call, moved off the approval's request. The reconciler's schedule is off in these runs (`devstack.Config.ReconcileEvery = 0`), so that its calls, which are per run and not per number (one `Query` per InFlight shard, 8, every run; a `DescribeExecution` per number unchanged for longer than its grace), do not land in a flow's window by chance; section 6 measures them with `make run`'s schedule.")
	w("")
	for _, f := range r.flows {
		r.mdFlowCalls(w, f)
	}
	w("Not in these counts: Secrets Manager, which `devstack` does not use (it hands the handlers the simulator's credentials; on AWS release-tasks and the webhook read their secret on first use and then at most every 10 min per warm instance, `functions/*/main.go`, so it is a per-instance cost, not a per-number one); an `Idempotency-Key`, which the bench does not send (with one, a provider's request adds a `GetItem` and a `PutItem`); the notify and start-release functions' invocations by their event source mappings, which `devstack` replaces by calling the publisher and the starter in-process.")
	w("")
}

func (r *report) mdFlowCalls(w printer, f flowRow) {
	rows := callRows(f.calls, minimums(f.waits, f.hints))
	w("**%s** (`%s`):", f.path, f.number)
	w("")
	w("| made by | service | operation | calls | minimum | | why that minimum |")
	w("|---|---|---|---:|---:|---|---|")
	for _, x := range rows {
		w("| %s | %s | `%s` | %d | %d | %s | %s |", madeBy(x.call), x.call.Service, x.call.Operation, x.measured, x.n, mark(x.measured, x.n), x.why)
	}
	projMin, invMin := 0, 0
	for _, x := range rows {
		if x.call.Service == invokeService {
			invMin += x.n
		} else {
			projMin += x.n
		}
	}
	project := sumCalls(f.calls.Calls, projectCall)
	attempts := sumCalls(f.calls.Attempts, projectCall)
	invokes := total(f.calls.Invokes)
	w("| | | **project's SDK calls** | **%d** | **%d** | %s | |", project, projMin, mark(project, projMin))
	w("| | | **Lambda invocations by Step Functions** | **%d** | **%d** | %s | |", invokes, invMin, mark(invokes, invMin))
	w("")
	retries := "no SDK retries"
	if attempts != project {
		retries = fmt.Sprintf("%d more than calls: SDK retries", attempts-project)
	}
	w("HTTP requests behind the project's calls: %d (%s). Stream pollers during the flow (devstack's stand-ins for notify's and start-release's event source mappings, which on AWS read the stream themselves, outside the project's code; not in the totals): %s.", attempts, retries, streamCalls(f.calls.Calls))
	w("")
	var above []string
	for _, x := range rows {
		if extra := x.measured - x.n; extra > 0 {
			above = append(above, fmt.Sprintf("`%s` %d above: %s", x.call.Operation, extra, explain(x)))
		}
	}
	if len(above) > 0 {
		w("Above the minimum:")
		w("")
		for _, a := range above {
			w("- %s.", a)
		}
		w("")
	}
}

// explain says what makes the calls beyond a minimum.
func explain(x callRow) string {
	if x.above == nil {
		return "not explained by the code path"
	}
	return x.above(x.measured)
}

// accountFor is cause when it explains all extra calls; otherwise it says
// that the measured extra differs from what the modelled code path makes.
func accountFor(extra, explained int, cause string) string {
	if extra == explained {
		return cause
	}
	return fmt.Sprintf("the code path as modelled in e2e/bench/calls.go makes %d extra, not the %d measured: %s", explained, extra, cause)
}

func mark(measured, minimum int) string {
	switch {
	case measured > minimum:
		return fmt.Sprintf("**%d above**", measured-minimum)
	case measured < minimum:
		return fmt.Sprintf("%d below", minimum-measured)
	}
	return "at minimum"
}

// streamCalls lists the stream poller's calls.
func streamCalls(m map[devstack.Call]int) string {
	var parts []string
	for c, n := range m {
		if c.Service == dynamodbstreams.ServiceID {
			parts = append(parts, fmt.Sprintf("%s %d", c.Operation, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// mdBulkCalls writes the calls of a bulk run per released number.
func mdBulkCalls(w printer, c devstack.CallCounts, numbers int) {
	type row struct {
		call devstack.Call
		n    int
	}
	var rows []row
	for call, n := range c.Calls {
		rows = append(rows, row{call, n})
	}
	for action, n := range c.Invokes {
		rows = append(rows, row{invokeCall(action), n})
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(cmp.Compare(rank(a.call), rank(b.call)), cmp.Compare(a.call.Service, b.call.Service), cmp.Compare(a.call.Operation, b.call.Operation))
	})
	w("| made by | service | operation | calls | per number |")
	w("|---|---|---|---:|---:|")
	for _, x := range rows {
		w("| %s | %s | `%s` | %d | %.2f |", madeBy(x.call), x.call.Service, x.call.Operation, x.n, float64(x.n)/float64(numbers))
	}
	project := sumCalls(c.Calls, projectCall)
	w("| | | **project's SDK calls** | **%d** | **%.2f** |", project, float64(project)/float64(numbers))
	w("")
	attempts := sumCalls(c.Attempts, projectCall)
	retries := "no SDK retries"
	if attempts != project {
		retries = fmt.Sprintf("%d more than calls: SDK retries", attempts-project)
	}
	w("HTTP requests behind the project's calls: %d (%s).", attempts, retries)
	w("")
}
