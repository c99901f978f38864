package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/harness/workflowtest"
	"numberrelease/shared/starter"
	"numberrelease/shared/workflow"
)

var (
	customer = auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"}
	provider = auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc"}
)

// newStore is a store holding acme (Zoom account zoom-acme), linked to
// provider pxc.
func newStore() *storetest.Store {
	st := storetest.New()
	_ = st.PutTenants(context.Background(), []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}},
		[]domain.Link{{ProviderID: "pxc", CustomerID: "acme"}})
	return st
}

func newService(t *testing.T) (*Service, *storetest.Store, *workflowtest.Recorder) {
	t.Helper()
	st := newStore()
	rec := &workflowtest.Recorder{}
	svc := New(st, rec, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if _, err := svc.RequestRelease(context.Background(), provider, RequestInput{CustomerID: "acme", Numbers: []string{"+97239754571"}}); err != nil {
		t.Fatal(err)
	}
	return svc, st, rec
}

// approvals counts the approval transitions in a number's history (what
// the starter turns into executions).
func approvals(t *testing.T, st *storetest.Store, c, n string) int {
	t.Helper()
	hist, err := st.History(context.Background(), c, n)
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for _, h := range hist {
		if starter.Approval(h) {
			count++
		}
	}
	return count
}

func TestApproveRetriesAfterLosingARace(t *testing.T) {
	tests := []struct {
		name      string
		competing domain.Status // what another writer does first
		want      string
		approvals int
	}{
		{"competing writer only touched metadata", domain.PendingApproval, "RELEASING", 1},
		{"customer rejected it meanwhile", domain.Rejected, "invalid_status", 0},
		{"provider cancelled it meanwhile", domain.Cancelled, "invalid_status", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, rec := newService(t)
			st.BeforeWrite(func() {
				cur, _ := st.GetNumber(context.Background(), "acme", "+97239754571")
				next := cur
				next.Status, next.Message = tt.competing, "changed by someone else"
				if _, err := st.Apply(context.Background(), domain.Change{Prev: cur, Next: next, Actor: "other"}); err != nil {
					t.Error(err)
				}
			})
			res, err := svc.Approve(context.Background(), customer, []string{"+97239754571"})
			if err != nil {
				t.Fatal(err)
			}
			got := res[0].Status
			if res[0].Error != nil {
				got = string(res[0].Error.Code)
			}
			// The approval is recorded; its execution is the starter's to
			// start (from the stream), not the API's.
			if approvals := approvals(t, st, "acme", "+97239754571"); got != tt.want || approvals != tt.approvals || len(rec.Started()) != 0 {
				t.Fatalf("result %+v, %d approvals recorded, %d starts; want %s, %d, 0", res[0], approvals, len(rec.Started()), tt.want, tt.approvals)
			}
		})
	}
}

// TestConcurrentApprovalsRecordOneAttempt: 20 approvals at once record one
// approval (attempt 1); the others find it RELEASING and only make sure its
// execution runs, which names the same attempt.
func TestConcurrentApprovalsRecordOneAttempt(t *testing.T) {
	svc, st, rec := newService(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Approve(context.Background(), customer, []string{"+97239754571"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := approvals(t, st, "acme", "+97239754571"); n != 1 {
		t.Fatalf("%d approvals recorded; want 1", n)
	}
	for _, s := range rec.Started() {
		if s.Attempt != 1 {
			t.Fatalf("start of attempt %d; want only attempt 1", s.Attempt)
		}
	}
}

// TestApprovingAgainRepairsARelease: approving a RELEASING number starts
// its attempt's execution (a start is idempotent; this repairs an approval
// whose start was lost); if that execution has already ended, the number
// is recorded FAILED and approved again as a new attempt.
func TestApprovingAgainRepairsARelease(t *testing.T) {
	tests := []struct {
		name        string
		startErr    error
		wantAttempt int
		wantHistory []domain.Status
	}{
		{"execution missing or running: started (idempotent)", nil, 1,
			[]domain.Status{domain.PendingApproval, domain.Releasing}},
		{"execution ended: FAILED, then a new attempt", fmt.Errorf("start: %w", workflow.ErrEnded), 2,
			[]domain.Status{domain.PendingApproval, domain.Releasing, domain.Failed, domain.Releasing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, rec := newService(t)
			ctx := context.Background()
			if _, err := svc.Approve(ctx, customer, []string{"+97239754571"}); err != nil {
				t.Fatal(err)
			}
			rec.StartErr = tt.startErr
			res, err := svc.Approve(ctx, customer, []string{"+97239754571"})
			if err != nil || res[0].Status != "RELEASING" {
				t.Fatalf("second approval = %+v, %v; want RELEASING", res, err)
			}
			cur, _ := st.GetNumber(ctx, "acme", "+97239754571")
			var got []domain.Status
			hist, _ := st.History(ctx, "acme", "+97239754571")
			for _, h := range hist {
				got = append(got, h.To)
			}
			if cur.Attempt != tt.wantAttempt || fmt.Sprint(got) != fmt.Sprint(tt.wantHistory) {
				t.Fatalf("attempt %d, history %v; want %d, %v", cur.Attempt, got, tt.wantAttempt, tt.wantHistory)
			}
			if tt.startErr == nil && (len(rec.Started()) != 1 || rec.Started()[0].Attempt != 1) {
				t.Fatalf("starts %+v; want attempt 1 once", rec.Started())
			}
		})
	}
}

// TestApprovingAgainFollowsTheSuccessor: a long wait goes on in successor
// executions, and the number records the one that carries it. Approving the
// RELEASING number again looks at that one: running is fine (nothing is
// started); ended or gone repairs the release as a new attempt.
func TestApprovingAgainFollowsTheSuccessor(t *testing.T) {
	const successor = "acme-97239754571-1-g2"
	tests := []struct {
		name        string
		status      string // the successor's: RUNNING, SUCCEEDED, or "" (never started)
		wantAttempt int
		wantStarts  int
	}{
		{"successor running: left alone", "RUNNING", 1, 1},
		{"successor ended: FAILED, then a new attempt", "SUCCEEDED", 2, 1},
		{"successor gone: FAILED, then a new attempt", "", 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st, rec := newService(t)
			ctx := context.Background()
			if _, err := svc.Approve(ctx, customer, []string{"+97239754571"}); err != nil {
				t.Fatal(err)
			}
			n, _ := st.GetNumber(ctx, "acme", "+97239754571")
			n.Execution = successor
			st.Put(n)
			if tt.status != "" {
				next := workflow.Release{CustomerID: "acme", Number: "+97239754571", Attempt: 1, Generation: 2, StartedAt: "2026-11-27T11:00:00Z"}
				if err := rec.Start(ctx, next); err != nil || next.ExecutionName() != successor {
					t.Fatalf("start %s: %v", next.ExecutionName(), err)
				}
				if tt.status != "RUNNING" {
					rec.End(successor, tt.status)
				}
			}
			res, err := svc.Approve(ctx, customer, []string{"+97239754571"})
			if err != nil || res[0].Status != "RELEASING" {
				t.Fatalf("second approval = %+v, %v; want RELEASING", res, err)
			}
			cur, _ := st.GetNumber(ctx, "acme", "+97239754571")
			if cur.Attempt != tt.wantAttempt || len(rec.Started()) != tt.wantStarts {
				t.Fatalf("attempt %d, starts %+v; want attempt %d and %d starts (the test's own)", cur.Attempt, rec.Started(), tt.wantAttempt, tt.wantStarts)
			}
		})
	}
}

func TestWrongRoleIsForbidden(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	calls := map[string]func() error{
		"approve as provider": func() error { _, err := svc.Approve(ctx, provider, []string{"+97239754571"}); return err },
		"request as customer": func() error {
			_, err := svc.RequestRelease(ctx, customer, RequestInput{CustomerID: "acme", Numbers: []string{"+97239754571"}})
			return err
		},
		"cancel as customer": func() error { _, err := svc.Cancel(ctx, customer, "acme", "+97239754571"); return err },
	}
	for name, call := range calls {
		if code := apperr.CodeOf(call()); code != apperr.Forbidden {
			t.Errorf("%s: code %s; want forbidden", name, code)
		}
	}
}

func TestUnassignedHint(t *testing.T) {
	tests := []struct {
		name     string
		account  string
		number   string
		waiting  bool
		rechecks int
	}{
		{"waiting number is woken", "zoom-acme", "+97239754571", true, 1},
		{"number not waiting is left alone", "zoom-acme", "+97239754571", false, 0},
		{"unknown number ignored", "zoom-acme", "+14155552671", true, 0},
		{"unknown account ignored", "zoom-other", "+97239754571", true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st, rec := newService(t)
			if tt.waiting {
				ctx := context.Background()
				cur, _ := st.GetNumber(ctx, "acme", "+97239754571")
				for _, s := range []domain.Status{domain.Releasing, domain.WaitingForUnassign} {
					next := cur
					next.Status, next.TaskToken = s, "tok"
					var err error
					if cur, err = st.Apply(ctx, domain.Change{Prev: cur, Next: next}); err != nil {
						t.Fatal(err)
					}
				}
			}
			hints := NewHints(st, rec, slog.New(slog.DiscardHandler))
			if err := hints.Unassigned(context.Background(), tt.account, tt.number); err != nil {
				t.Fatal(err)
			}
			if len(rec.Rechecks) != tt.rechecks {
				t.Fatalf("rechecks = %v; want %d", rec.Rechecks, tt.rechecks)
			}
		})
	}
}

// flakyRechecker refuses to wake one token and records the others.
type flakyRechecker struct {
	*workflowtest.Recorder
	refuse string
}

func (f flakyRechecker) Recheck(ctx context.Context, token string) error {
	if token == f.refuse {
		return errors.New("step functions unavailable (injected)")
	}
	return f.Recorder.Recheck(ctx, token)
}

// TestWakeNotConnected wakes exactly the customer's releases that wait for
// its Zoom connection, and one that cannot be woken does not stop the rest.
func TestWakeNotConnected(t *testing.T) {
	ctx := context.Background()
	_, st, rec := newService(t)
	extra := []string{"+97239754572", "+97239754573", "+97239754574"}
	if _, err := New(st, rec, slog.New(slog.DiscardHandler)).RequestRelease(ctx, provider, RequestInput{CustomerID: "acme", Numbers: extra}); err != nil {
		t.Fatal(err)
	}
	set := func(n, msg, token string) {
		cur, err := st.GetNumber(ctx, "acme", n)
		if err != nil {
			t.Fatal(err)
		}
		next := cur
		next.Status, next.Message, next.TaskToken = domain.Releasing, msg, token
		if _, err := st.Apply(ctx, domain.Change{Prev: cur, Next: next}); err != nil {
			t.Fatal(err)
		}
	}
	set("+97239754571", domain.NotConnectedMessage, "tok-refused")
	set(extra[0], domain.NotConnectedMessage, "tok-a")
	set(extra[1], "checking Zoom", "tok-other") // releasing for another reason
	set(extra[2], domain.NotConnectedMessage, "tok-b")
	n, err := NewHints(st, flakyRechecker{Recorder: rec, refuse: "tok-refused"}, slog.New(slog.DiscardHandler)).WakeNotConnected(ctx, "acme")
	if n != 2 || err == nil || !strings.Contains(err.Error(), "+97239754571") {
		t.Fatalf("woke %d, err %v; want 2 and the one that failed named", n, err)
	}
	slices.Sort(rec.Rechecks)
	if !slices.Equal(rec.Rechecks, []string{"tok-a", "tok-b"}) {
		t.Fatalf("rechecked %v; want tok-a and tok-b", rec.Rechecks)
	}
}

// TestConcurrentActionsKeepHistoryConsistent races approvals, rejections
// and cancellations of the same numbers from many goroutines against a store
// with DynamoDB's conditional-write rule. Whatever wins, each number's
// history replays to its final status, every change in it is an allowed
// transition, and every execution the service started belongs to an
// approval that won.
func TestConcurrentActionsKeepHistoryConsistent(t *testing.T) {
	st := newStore()
	rec := &workflowtest.Recorder{}
	svc := New(st, rec, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	outcomes := map[domain.Status]int{}
	for round := 0; round < 20; round++ {
		nums := make([]string, 5)
		for i := range nums {
			nums[i] = fmt.Sprintf("+1415555%02d%02d", round, i)
		}
		// A rejected or cancelled number is asked for again mid-race, too.
		if _, err := svc.RequestRelease(ctx, provider, RequestInput{CustomerID: "acme", Numbers: nums}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := 0; g < 12; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch g % 4 {
				case 0:
					_, _ = svc.Approve(ctx, customer, nums)
				case 1:
					_, _ = svc.Reject(ctx, customer, nums, "")
				case 2:
					for _, n := range nums {
						_, _ = svc.Cancel(ctx, provider, "acme", n)
					}
				case 3:
					_, _ = svc.RequestRelease(ctx, provider, RequestInput{CustomerID: "acme", Numbers: nums})
				}
			}()
		}
		wg.Wait()
		for _, n := range nums {
			cur, _ := st.GetNumber(ctx, "acme", n)
			outcomes[cur.Status]++
		}
	}
	t.Logf("final statuses of 100 raced numbers: %v", outcomes)
	approved := map[string]bool{}
	for _, n := range st.Numbers() {
		hist, err := st.History(ctx, n.CustomerID, n.Number)
		if err != nil {
			t.Fatal(err)
		}
		status := domain.None
		for _, h := range hist {
			if h.From != status || !domain.CanTransition(h.From, h.To) {
				t.Fatalf("%s: history step %s → %s does not follow %s", n.Number, h.From, h.To, status)
			}
			status = h.To
			if starter.Approval(h) {
				approved[workflow.Release{CustomerID: n.CustomerID, Number: n.Number, Attempt: h.Attempt}.ExecutionName()] = true
			}
		}
		if status != n.Status {
			t.Fatalf("%s: history replays to %s; the number is %s", n.Number, status, n.Status)
		}
	}
	for _, s := range rec.Started() {
		if !approved[s.ExecutionName()] {
			t.Fatalf("execution %s started for an attempt that was never approved", s.ExecutionName())
		}
	}
}

// TestRequestInterruptedMidwayIsCompletedBySendingItAgain: a request's
// numbers are written 50 to a transaction; when another writer takes one
// of the later numbers first, the request answers 409 and the first 50
// stay written; sending the same request again writes the rest and
// reports the numbers already recorded, writing none of them twice.
func TestRequestInterruptedMidwayIsCompletedBySendingItAgain(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	nums := make([]string, 60)
	for i := range nums {
		nums[i] = fmt.Sprintf("+1415555%04d", i)
	}
	in := RequestInput{CustomerID: "acme", Numbers: nums}
	st.BeforeWrite(func() {
		// Another writer records number 55 first.
		if _, err := st.Apply(ctx, domain.Change{Next: domain.Number{CustomerID: "acme", Number: nums[55], Status: domain.PendingApproval, ProviderID: "pxc", RequestID: "other"}}); err != nil {
			t.Error(err)
		}
	})
	if _, err := svc.RequestRelease(ctx, provider, in); apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), nums[55]) {
		t.Fatalf("interrupted request: %v; want a conflict naming %s", err, nums[55])
	}
	written, _ := st.GetNumbers(ctx, "acme", nums)
	if len(written) != 51 { // the first transaction's 50, and number 55
		t.Fatalf("%d numbers written after the conflict; want the first 50 and the other writer's", len(written))
	}
	out, err := svc.RequestRelease(ctx, provider, in)
	if err != nil {
		t.Fatalf("sent again: %v", err)
	}
	for i, r := range out.Numbers {
		n, _ := st.Number("acme", nums[i])
		if r.Status != string(domain.PendingApproval) || n.Version != 1 {
			t.Fatalf("%s: %+v, written %d times; want PENDING_APPROVAL, written once", nums[i], r, n.Version)
		}
	}
	if first, last := out.Numbers[0].RequestID, out.Numbers[59].RequestID; first == last || last != out.RequestID {
		t.Fatalf("request ids: first %s, last %s, answer %s; want the first of the interrupted request, the last of the new one", first, last, out.RequestID)
	}
}
