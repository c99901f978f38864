package reconcile

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/harness/workflowtest"
	"numberrelease/shared/workflow"
)

// fixture is a store and a workflow whose executions run until they are
// ended or stopped.
type fixture struct {
	st *storetest.Store
	wf *workflowtest.Recorder
}

func newFixture() fixture {
	return fixture{st: storetest.New(), wf: &workflowtest.Recorder{}}
}

// approve records an approval of n (RELEASING, attempt 1).
func (f fixture) approve(t *testing.T, n string) domain.Number {
	t.Helper()
	ctx := context.Background()
	cur, err := f.st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: "acme", Number: n, Status: domain.PendingApproval, ProviderID: "pxc", RequestID: "r"}, Actor: "p", Why: "w"})
	if err != nil {
		t.Fatal(err)
	}
	next := cur
	next.Status, next.Attempt = domain.Releasing, 1
	next.Execution = workflow.Release{CustomerID: "acme", Number: n, Attempt: 1}.ExecutionName()
	if cur, err = f.st.Apply(ctx, domain.Change{Prev: cur, Next: next, Actor: "c", Why: "approved"}); err != nil {
		t.Fatal(err)
	}
	return cur
}

// start starts the execution of n's attempt 1.
func (f fixture) start(t *testing.T, n domain.Number) {
	t.Helper()
	if err := f.wf.Start(context.Background(), workflow.Release{CustomerID: "acme", Number: n.Number, Attempt: 1}); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) reconciler(starter workflow.Starter, now func() time.Time) *Reconciler {
	return &Reconciler{Store: f.st, Executions: f.wf, Starter: starter,
		Grace: time.Minute, MaxWait: time.Hour, RetryBudget: 15 * time.Minute,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: now}
}

// after is a clock d ahead of now.
func after(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	// Three approved numbers: one healthy, one whose execution was aborted,
	// one whose execution never started.
	healthy, aborted, neverStarted := f.approve(t, "+14155550001"), f.approve(t, "+14155550002"), f.approve(t, "+14155550003")
	f.start(t, healthy)
	f.start(t, aborted)
	f.wf.End(aborted.Execution, "ABORTED")

	r := f.reconciler(f.wf, after(2*time.Minute))
	rep, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 3 || rep.Running != 1 || rep.Failed != 1 || rep.Restarted != 1 {
		t.Fatalf("report = %+v; want 3 checked, 1 running, 1 failed, 1 restarted", rep)
	}
	got, _ := f.st.GetNumber(ctx, "acme", aborted.Number)
	if got.Status != domain.Failed || !strings.Contains(got.Message, "ended (ABORTED) without finishing") {
		t.Fatalf("aborted execution's number = %s %q", got.Status, got.Message)
	}
	hist, _ := f.st.History(ctx, "acme", aborted.Number)
	if last := hist[len(hist)-1]; last.Actor != Actor || last.To != domain.Failed {
		t.Fatalf("last history entry = %+v", last)
	}
	if d, err := f.wf.Describe(ctx, neverStarted.Execution); err != nil || !d.Running {
		t.Fatalf("never-started number's execution: %+v, %v", d, err)
	}
	// A second run finds nothing left to repair.
	rep, err = r.Run(ctx)
	if err != nil || rep.Restarted != 0 || rep.Failed != 0 || rep.Running != 2 {
		t.Fatalf("second run = %+v, %v", rep, err)
	}
	// Within the grace period (the numbers changed seconds ago) nothing is looked at.
	r.Now = time.Now
	if rep, _ := r.Run(ctx); rep.Checked != 0 {
		t.Fatalf("inside the grace period: %+v", rep)
	}
}

// A waiting number whose execution ended without moving it returns to
// PENDING_APPROVAL with the reason (the lifecycle has no
// WAITING_FOR_UNASSIGN → FAILED), so the customer can approve it again.
func TestReconcileReturnsAnOrphanedWaitToApproval(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	n := f.approve(t, "+14155550009")
	f.start(t, n)
	waiting := n
	waiting.Status, waiting.TaskToken = domain.WaitingForUnassign, "tok"
	waiting, err := f.st.Apply(ctx, domain.Change{Prev: n, Next: waiting, Actor: "release-tasks", Why: "assigned in Zoom"})
	if err != nil {
		t.Fatal(err)
	}
	f.wf.End(waiting.Execution, "FAILED")
	rep, err := f.reconciler(f.wf, after(2*time.Minute)).Run(ctx)
	if err != nil || rep.Failed != 1 {
		t.Fatalf("run = %+v, %v; want one repaired", rep, err)
	}
	got, _ := f.st.GetNumber(ctx, "acme", n.Number)
	if got.Status != domain.PendingApproval || got.TaskToken != "" || !strings.Contains(got.Message, "ended (FAILED) without finishing") {
		t.Fatalf("orphaned waiting number = %s %q; want PENDING_APPROVAL with the reason", got.Status, got.Message)
	}
}

// TestReconcileStopsAnExecutionPastItsDeadline: an execution still RUNNING
// past its overall deadline plus the grace (which a healthy one never is)
// is stopped and its number recorded FAILED with the reason.
func TestReconcileStopsAnExecutionPastItsDeadline(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	n := f.approve(t, "+14155550011")
	f.start(t, n)
	tests := []struct {
		name        string
		after       time.Duration
		wantStopped int
		wantStatus  domain.Status
		wantExec    string
	}{
		{"within its deadline and grace: left alone", time.Hour + 30*time.Second, 0, domain.Releasing, "RUNNING"},
		{"past them: stopped and FAILED", time.Hour + 2*time.Minute, 1, domain.Failed, "ABORTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := f.reconciler(f.wf, after(tt.after)).Run(ctx)
			if err != nil || rep.Stopped != tt.wantStopped {
				t.Fatalf("report %+v, %v; want %d stopped", rep, err, tt.wantStopped)
			}
			got, _ := f.st.GetNumber(ctx, "acme", n.Number)
			d, err := f.wf.Describe(ctx, n.Execution)
			if err != nil || got.Status != tt.wantStatus || d.Status != tt.wantExec {
				t.Fatalf("number %s, execution %s (%v); want %s, %s", got.Status, d.Status, err, tt.wantStatus, tt.wantExec)
			}
			if tt.wantStatus == domain.Failed && !strings.Contains(got.Message, "overall deadline") {
				t.Fatalf("message %q does not give the reason", got.Message)
			}
		})
	}
}

// TestReconcileFollowsTheSuccessor: the reconciler looks at the execution
// the number records, the successor a long wait went on in, and counts its
// deadline from the release's first execution.
func TestReconcileFollowsTheSuccessor(t *testing.T) {
	tests := []struct {
		name       string
		started    time.Duration // the release's first execution, before now; 0: the successor was never started
		wantStatus domain.Status
		wantExec   string // the successor's status afterwards
		wantWhy    string
	}{
		{"successor of a release within its deadline: left alone", 30 * time.Minute, domain.Releasing, "RUNNING", ""},
		{"successor of a release past its deadline: stopped and FAILED", 2 * time.Hour, domain.Failed, "ABORTED", "overall deadline"},
		{"successor gone: FAILED, nothing started", 0, domain.Failed, "", "is gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			f := newFixture()
			n := f.approve(t, "+14155550021")
			// RELEASING: the successor was started during trouble (a waiting
			// number cannot become FAILED: the lifecycle has no such change).
			next := n
			next.Execution = "acme-14155550021-1-g4"
			n, err := f.st.Apply(ctx, domain.Change{Prev: n, Next: next, Actor: "workflow", Why: "the wait goes on"})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().Add(2 * time.Minute) // past the grace
			if tt.started > 0 {
				succ := workflow.Release{CustomerID: "acme", Number: n.Number, Attempt: 1, Generation: 4,
					StartedAt: now.Add(-tt.started).Format(time.RFC3339Nano)}
				if err := f.wf.Start(ctx, succ); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := f.reconciler(f.wf, func() time.Time { return now }).Run(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := f.st.GetNumber(ctx, "acme", n.Number)
			if got.Status != tt.wantStatus || !strings.Contains(got.Message, tt.wantWhy) {
				t.Fatalf("number %s %q; want %s with %q", got.Status, got.Message, tt.wantStatus, tt.wantWhy)
			}
			if d, err := f.wf.Describe(ctx, n.Execution); tt.wantExec != "" && (err != nil || d.Status != tt.wantExec) {
				t.Fatalf("successor %+v, %v; want %s", d, err, tt.wantExec)
			}
			if starts := f.wf.Started(); len(starts) != min(1, int(tt.started)) {
				t.Fatalf("starts %+v; want only the test's own", starts)
			}
		})
	}
}

// failingStarter cannot start anything (Step Functions down for this caller).
type failingStarter struct{}

func (failingStarter) Start(context.Context, workflow.Release) error {
	return errors.New("states unavailable")
}

// TestReconcileGivesUpOnAStartThatKeepsFailing: a release whose workflow
// cannot be started is retried run after run within the retry budget, then
// recorded FAILED with the reason, so it is never left RELEASING.
func TestReconcileGivesUpOnAStartThatKeepsFailing(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	n := f.approve(t, "+14155550021")
	tests := []struct {
		name       string
		after      time.Duration
		wantStatus domain.Status
	}{
		{"within the budget: retried next run", 10 * time.Minute, domain.Releasing},
		{"past grace and budget: FAILED", 17 * time.Minute, domain.Failed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.reconciler(failingStarter{}, after(tt.after)).Run(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := f.st.GetNumber(ctx, "acme", n.Number)
			if got.Status != tt.wantStatus {
				t.Fatalf("number is %s; want %s", got.Status, tt.wantStatus)
			}
			if tt.wantStatus == domain.Failed && !strings.Contains(got.Message, "could not be started") {
				t.Fatalf("message %q does not give the reason", got.Message)
			}
		})
	}
}

// TestReconcileLeavesANumberThatMoved: a number that moves while the
// reconciler looks at it is someone else's to look after.
func TestReconcileLeavesANumberThatMoved(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	n := f.approve(t, "+14155550031")
	f.start(t, n)
	f.wf.End(n.Execution, "FAILED")
	f.st.BeforeWrite(func() {
		moved := n
		moved.Status, moved.Version = domain.Released, n.Version+1
		f.st.Put(moved)
	})
	rep, err := f.reconciler(f.wf, after(2*time.Minute)).Run(ctx)
	if err != nil || rep.Failed != 0 || rep.Skipped != 0 {
		t.Fatalf("report %+v, %v; want nothing failed or skipped", rep, err)
	}
	if got, _ := f.st.GetNumber(ctx, "acme", n.Number); got.Status != domain.Released {
		t.Fatalf("number is %s; want the RELEASED it moved to", got.Status)
	}
}
