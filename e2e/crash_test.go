package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

// faults are the crash points the in-process system lets a test arm, each
// for one number at a time, so other tests running on the same system are
// not touched.
var faults = &faultSwitches{armed: map[string]string{}}

// The crash points between an approval's status write and its running
// execution.
const (
	// loseWriteAnswer: the API's transaction commits, and its answer is lost.
	loseWriteAnswer = "lose-write-answer"
	// starterDown: the starter dies before every start of the number, so
	// only the reconciler can start it.
	starterDown = "starter-down"
	// startTimesOut: the starter's start succeeds, and its answer is lost
	// (the call times out), so the start is tried again.
	startTimesOut = "start-times-out"
)

type faultSwitches struct {
	mu    sync.Mutex
	armed map[string]string // number (digits) → fault
	hits  map[string]int
}

func (f *faultSwitches) arm(number, fault string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed[strings.TrimPrefix(number, "+")] = fault
}

func (f *faultSwitches) disarm(number string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.armed, strings.TrimPrefix(number, "+"))
}

// hit reports whether fault is armed for a number named in text (an
// encoded request), and counts it.
func (f *faultSwitches) hit(fault, text string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for digits, armed := range f.armed {
		if armed == fault && strings.Contains(text, digits) {
			if f.hits == nil {
				f.hits = map[string]int{}
			}
			f.hits[fault]++
			return true
		}
	}
	return false
}

func (f *faultSwitches) hitsOf(fault string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[fault]
}

func (f *faultSwitches) wire() *devstack.Faults {
	return &devstack.Faults{
		APIStore:   func(db store.DB) store.DB { return &lossyStore{DB: db} },
		StarterSFN: func(c workflow.SFN) workflow.SFN { return &faultySFN{SFN: c} },
	}
}

// errAnswerLost is what a caller sees when the connection drops after the
// request was carried out.
var errAnswerLost = errors.New("read tcp: connection reset by peer (injected after the call succeeded)")

type lossyStore struct{ store.DB }

func (s *lossyStore) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := s.DB.TransactWriteItems(ctx, in, opts...)
	if err == nil && in.TransactItems[0].Put != nil && faults.hit(loseWriteAnswer, fmt.Sprint(in.TransactItems[0].Put.Item["PK"])) {
		return nil, errAnswerLost
	}
	return out, err
}

type faultySFN struct{ workflow.SFN }

func (s *faultySFN) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if faults.hit(starterDown, aws.ToString(in.Name)) {
		return nil, errors.New("the starter died before the start (injected)")
	}
	out, err := s.SFN.StartExecution(ctx, in, opts...)
	if err == nil && faults.hit(startTimesOut, aws.ToString(in.Name)) {
		return nil, fmt.Errorf("start execution: %w", context.DeadlineExceeded)
	}
	return out, err
}

// TestNoApprovalIsOrphaned injects a failure at each crash point between an
// approval's status write and a running execution, and checks that the
// number is RELEASED with no human action: no second approval, no operator.
// Exactly one execution ran, and the history is a valid chain.
func TestNoApprovalIsOrphaned(t *testing.T) {
	if stack == nil {
		t.Skip("injects faults into the in-process system")
	}
	tests := []struct {
		name, fault string
		// within bounds the time to RELEASED (10× what it should take).
		within time.Duration
	}{
		{"the status write's answer is lost", loseWriteAnswer, 10 * settle()},
		{"the start times out after it succeeded", startTimesOut, 10 * settle()},
		// The stream's redeliveries fail too, so the reconciler starts it
		// once the number has been unchanged for its grace.
		{"the starter dies before every start", starterDown, 10 * (reconcileGrace + reconcileEvery + settle())},
	}
	acme, pxc := customer(t, "acme"), provider(t, "pxc")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := fmt.Sprintf("+1415555071%d", i)
			putZoomNumber(t, "zoom-acme", n, "")
			requestRelease(t, pxc, "acme", n)
			before := faults.hitsOf(tt.fault)
			faults.arm(n, tt.fault)
			defer faults.disarm(n)
			// The approval answers the truth even when its write's answer
			// was lost: it reads the number again.
			if r := approve(t, acme, n); r.Results[0].Status != "RELEASING" {
				t.Fatalf("approval answered %+v; want RELEASING", r.Results[0])
			}
			done := acme.waitStatus(n, "RELEASED", tt.within)
			if faults.hitsOf(tt.fault) == before {
				t.Fatalf("the fault %s was never hit", tt.fault)
			}
			if got := done.path(); got != "PENDING_APPROVAL → RELEASING → RELEASED" {
				t.Fatalf("history: %s", got)
			}
			if got := executionsOf(t, "acme", n); got != fmt.Sprintf("acme-%s-1:SUCCEEDED", strings.TrimPrefix(n, "+")) {
				t.Fatalf("executions: %s; want attempt 1 only, SUCCEEDED", got)
			}
			if _, ok := zoomNumbers(t)[n]; ok {
				t.Fatalf("%s is still in the Zoom account", n)
			}
		})
	}
}
