package main

// The cost model (section 4): dollars per 1,000 releases from the counts
// the workflow runs measured, and a stage's fixed monthly cost from its
// synthesized template, at the list prices below.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// List prices, us-east-1, on-demand, as published on the AWS pricing pages
// (checked 2026-12). Free tiers are left out: the model is for a stage
// that has used them up.
var prices = struct {
	transition   float64 // Step Functions Standard, per state transition
	lambdaCall   float64 // Lambda, per request
	lambdaGBs    float64 // Lambda arm64, per GB-second
	wru, rru     float64 // DynamoDB on-demand, per write / read request unit
	event        float64 // EventBridge, per custom event published
	apiCall      float64 // API Gateway REST API, per request (first 333 M)
	kmsKey       float64 // KMS customer managed key, per month
	secret       float64 // Secrets Manager, per secret per month
	alarm        float64 // CloudWatch standard-resolution alarm, per month
	dashboard    float64 // CloudWatch dashboard, per month (beyond three free)
	date, source string
}{
	transition: 0.025 / 1000, lambdaCall: 0.20 / 1e6, lambdaGBs: 0.0000133334,
	wru: 0.625 / 1e6, rru: 0.125 / 1e6, event: 1.00 / 1e6, apiCall: 3.50 / 1e6,
	kmsKey: 1.00, secret: 0.40, alarm: 0.10, dashboard: 3.00,
	date: "2026-12", source: "aws.amazon.com/<service>/pricing, us-east-1",
}

// Assumptions the emulator cannot measure.
const (
	// lambdaMemoryGB is every function's memory (infra/stack/functions.go).
	lambdaMemoryGB = 0.25
	// billedPerInvoke is the time billed per invocation: the handlers'
	// own work is milliseconds, the rest is DynamoDB and Zoom round trips.
	// A deliberately high figure; AWS bills by the millisecond.
	billedPerInvoke = 200 * time.Millisecond
	// itemWrites is the items a TransactWriteItems of one number writes
	// (the number and its history entry), each billed 2 WRU in a
	// transaction; other writes are 1 WRU and reads 1 RRU (items under
	// 1 KB, strongly consistent reads, the dearer case).
	itemWrites = 2
	// defaultRecheck and defaultMaxWait are the stack's parameter
	// defaults (infra/stack/parameters.go RecheckSeconds, MaxWaitSeconds).
	defaultRecheck = 900 * time.Second
	defaultMaxWait = 7 * 24 * time.Hour
	// reconcileEvery is the reconciler's schedule on AWS.
	reconcileEvery = 15 * time.Minute
)

// usage is what one release uses of each billed thing.
type usage struct {
	transitions, invokes, wru, rru, events, apiCalls float64
}

func (u usage) plus(v usage, k float64) usage {
	return usage{u.transitions + k*v.transitions, u.invokes + k*v.invokes, u.wru + k*v.wru, u.rru + k*v.rru, u.events + k*v.events, u.apiCalls + k*v.apiCalls}
}

func (u usage) dollars() float64 {
	return u.transitions*prices.transition + u.invokes*(prices.lambdaCall+lambdaMemoryGB*billedPerInvoke.Seconds()*prices.lambdaGBs) +
		u.wru*prices.wru + u.rru*prices.rru + u.events*prices.event + u.apiCalls*prices.apiCall
}

// usageOf turns one measured flow into usage: its state transitions
// (entered + retries), release-tasks invocations, the AWS calls counted,
// and the API calls a provider's request and an approval of one number
// make (the dearer case: one number per call).
func usageOf(f flowRow) usage {
	u := usage{transitions: float64(f.entered + f.retries), apiCalls: 2}
	for _, n := range f.calls.Invokes {
		u.invokes += float64(n)
	}
	// The API Lambda answers the two API calls; notify and start-release
	// run once per stream batch, at most once per write of the number.
	u.invokes += 2
	for c, n := range f.calls.Calls {
		k := float64(n)
		switch {
		case c.Service == dynamodb.ServiceID && c.Operation == "TransactWriteItems":
			u.wru += k * 2 * itemWrites
			u.invokes += k * 2 // the stream consumers, at most once per write
		case c.Service == dynamodb.ServiceID && (c.Operation == "PutItem" || c.Operation == "UpdateItem" || c.Operation == "DeleteItem"):
			u.wru += k
		case c.Service == dynamodb.ServiceID && (c.Operation == "GetItem" || c.Operation == "BatchGetItem" || c.Operation == "Query"):
			u.rru += k
		case c.Service == eventbridge.ServiceID && c.Operation == "PutEvents":
			u.events += k
		case c.Service == sfn.ServiceID:
			// Step Functions API calls (StartExecution, SendTaskSuccess,
			// DescribeExecution) are not billed; transitions are.
		}
	}
	return u
}

// costFlows names the two measured flows the model builds on.
func costFlows(flows []flowRow) (unassigned, oneWait *flowRow) {
	for i := range flows {
		switch {
		case flows[i].waits == 0 && unassigned == nil:
			unassigned = &flows[i]
		case flows[i].waits == 1 && oneWait == nil:
			oneWait = &flows[i]
		}
	}
	return unassigned, oneWait
}

func (r *report) mdCost(w printer) {
	w("### Cost model")
	w("")
	un, wait := costFlows(r.flows)
	if un == nil || wait == nil {
		w("Not computed: the workflow runs above did not both complete.")
		w("")
		return
	}
	base, withWait := usageOf(*un), usageOf(*wait)
	perWait := withWait.plus(base, -1) // one more wait loop: what the waiting flow adds
	loops := float64(defaultMaxWait / defaultRecheck)
	week := withWait.plus(perWait, loops-1)
	w("Dollars per 1,000 releases at list prices (%s, %s), from the counts measured above: state transitions (entered + retries), Lambda invocations (release-tasks by action as counted, the API's two calls, and the stream consumers at most once per table write), DynamoDB request units from the calls counted (a transaction of one number writes %d items at 2 WRU each; other writes 1 WRU; reads 1 RRU), EventBridge events, and API Gateway requests (one provider request and one approval per number: the dearest case; both take up to 500 numbers per call). Lambda time is assumed, not measured: %s billed per invocation at %.0f MB (arm64). The %.0f-day case waits the longest a release may (MaxWaitSeconds) with the default re-check every %.0f min: %.0f wait loops, each priced as what the one-wait flow adds to the unassigned one, an upper bound (that includes entering WAITING_FOR_UNASSIGN, its history entry and its event, which a re-check that finds the number still assigned does not repeat).", prices.date, prices.source, itemWrites, billedPerInvoke, lambdaMemoryGB*1024, defaultMaxWait.Hours()/24, defaultRecheck.Minutes(), loops)
	w("")
	w("| per 1,000 releases | state transitions | Lambda invocations | WRU | RRU | events | API requests | **dollars** |")
	w("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range []struct {
		name string
		u    usage
	}{{"unassigned", base}, {"one wait (unassigned in Zoom while waiting)", withWait}, {fmt.Sprintf("left waiting %.0f days (then back to PENDING_APPROVAL)", defaultMaxWait.Hours()/24), week}} {
		k := 1000.0
		w("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | **$%.2f** |", c.name, k*c.u.transitions, k*c.u.invokes, k*c.u.wru, k*c.u.rru, k*c.u.events, k*c.u.apiCalls, k*c.u.dollars())
	}
	w("")
	r.mdFixedCost(w)
}

// mdFixedCost prices what a stage costs per month before any release, from
// the dev stage's synthesized template.
func (r *report) mdFixedCost(w printer) {
	counts, err := templateCounts()
	if err != nil {
		w("Fixed monthly cost: not computed (%s).", trunc(err.Error(), 200))
		w("")
		return
	}
	runs := float64(30*24*time.Hour) / float64(reconcileEvery)
	type line struct {
		what    string
		n       float64
		dollars float64
	}
	lines := []line{
		{"KMS customer managed keys", float64(counts["AWS::KMS::Key"]), float64(counts["AWS::KMS::Key"]) * prices.kmsKey},
		{"Secrets Manager secrets", float64(counts["AWS::SecretsManager::Secret"]), float64(counts["AWS::SecretsManager::Secret"]) * prices.secret},
		{"CloudWatch alarms", float64(counts["AWS::CloudWatch::Alarm"]), float64(counts["AWS::CloudWatch::Alarm"]) * prices.alarm},
		{"CloudWatch dashboards (if the account's three free ones are used)", float64(counts["AWS::CloudWatch::Dashboard"]), float64(counts["AWS::CloudWatch::Dashboard"]) * prices.dashboard},
		{fmt.Sprintf("reconciler runs (every %.0f min; one invocation and 8 Queries each)", reconcileEvery.Minutes()), runs,
			runs * (prices.lambdaCall + lambdaMemoryGB*billedPerInvoke.Seconds()*prices.lambdaGBs + 8*prices.rru)},
	}
	total := 0.0
	w("Fixed monthly cost of a stage (the `dev` template as synthesized; 30 days; storage and logs grow with use and are left out):")
	w("")
	w("| item | count | dollars per month |")
	w("|---|---:|---:|")
	for _, l := range lines {
		total += l.dollars
		w("| %s | %.0f | $%.2f |", l.what, l.n, l.dollars)
	}
	w("| **total** | | **$%.2f** |", total)
	w("")
	var kinds []string
	for k, n := range counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", strings.TrimPrefix(k, "AWS::"), n))
	}
	sort.Strings(kinds)
	w("Resources in the template: %s. The others (the table on demand, the state machine, functions, queues, the API, the bus, topics, log groups) cost nothing until used.", strings.Join(kinds, ", "))
	w("")
}

// templateCounts synthesizes the dev stage into a temporary directory and
// counts its resources by type.
func templateCounts() (map[string]int, error) {
	dir, err := os.MkdirTemp("", "bench-synth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command("make", "--no-print-directory", "synth", "STAGE=dev", "CDK_OUT="+dir)
	cmd.Env = append(os.Environ(), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("make synth: %w: %s", err, trunc(string(out), 300))
	}
	b, err := os.ReadFile(filepath.Join(dir, "NumberRelease-dev.template.json"))
	if err != nil {
		return nil, err
	}
	var t struct {
		Resources map[string]struct{ Type string } `json:"Resources"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("read the template: %w", err)
	}
	counts := map[string]int{}
	for _, res := range t.Resources {
		counts[res.Type]++
	}
	return counts, nil
}
