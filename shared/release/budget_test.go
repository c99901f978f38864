package release

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/harness/workflowtest"
	"numberrelease/shared/number"
)

// slowStore takes perChange for every change it writes. When the caller's
// deadline passes during a write, the write still lands but its answer is
// lost, the worst case for the caller: it cannot know what happened.
type slowStore struct {
	*storetest.Store
	perChange time.Duration
}

func (s slowStore) ApplyEach(ctx context.Context, changes []domain.Change) ([]domain.Number, []error) {
	time.Sleep(time.Duration(len(changes)) * s.perChange)
	written, errs := s.Store.ApplyEach(ctx, changes)
	if err := ctx.Err(); err != nil {
		for i := range errs {
			written[i], errs[i] = domain.Number{}, fmt.Errorf("write: %w", err)
		}
	}
	return written, errs
}

// lambdaTimeout is the API function's timeout (infra/stack/functions.go).
const lambdaTimeout = 15 * time.Second

// A 500-number approval against a store too slow to write them all within
// the function's timeout answers before the timeout, and every number's
// answer is true: ok numbers are RELEASING, the others say "send it again".
// Sending those again finishes the approval with one approval per number.
func TestApprovalAnswersWithinItsDeadline(t *testing.T) {
	tests := []struct {
		name        string
		perChange   time.Duration
		wantRest    bool // some numbers are answered "send it again"
		wantFirstOK int  // numbers the first call answers RELEASING
	}{
		{"fast store: all approved in one call", time.Millisecond, false, 500},
		{"store slower than the timeout: part approved, the rest sent again", 40 * time.Millisecond, true, 300},
		// Slices of 100 take 4.5 s: the third is cut by the deadline after
		// it landed; the read in the time kept to answer confirms it.
		{"a write cut by the deadline after it landed: confirmed by a read", 45 * time.Millisecond, true, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := slowStore{Store: newStore(), perChange: tt.perChange}
				svc := New(st, &workflowtest.Recorder{}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
				nums := make([]string, number.MaxPerRequest)
				for i := range nums {
					nums[i] = fmt.Sprintf("+9723975%04d", i)
				}
				if _, err := svc.RequestRelease(context.Background(), provider, RequestInput{CustomerID: "acme", Numbers: nums}); err != nil {
					t.Fatal(err)
				}
				todo, calls, sentAgain := nums, 0, 0
				for len(todo) > 0 {
					if calls++; calls > 10 {
						t.Fatalf("%d numbers still not approved after %d calls", len(todo), calls-1)
					}
					ctx, cancel := context.WithTimeout(context.Background(), lambdaTimeout)
					start := time.Now()
					res, err := svc.Approve(ctx, customer, todo)
					took := time.Since(start)
					cancel()
					if err != nil {
						t.Fatalf("call %d: %v", calls, err)
					}
					if took >= lambdaTimeout {
						t.Fatalf("call %d answered after %s, past the function's %s timeout", calls, took, lambdaTimeout)
					}
					var next []string
					if calls == 1 {
						okCount := 0
						for _, r := range res {
							if r.Error == nil {
								okCount++
							}
						}
						if okCount != tt.wantFirstOK {
							t.Fatalf("the first call answered %d numbers RELEASING; want %d", okCount, tt.wantFirstOK)
						}
					}
					for _, r := range res {
						cur, _ := st.GetNumber(context.Background(), "acme", r.Number)
						switch {
						case r.Error == nil:
							if r.Status != string(domain.Releasing) || cur.Status != domain.Releasing {
								t.Fatalf("%s answered %s but stored %s", r.Number, r.Status, cur.Status)
							}
						case r.Error.Code == apperr.Unavailable:
							next = append(next, r.Number)
						default:
							t.Fatalf("%s: unexpected answer %+v", r.Number, r.Error)
						}
					}
					if len(next) == len(todo) {
						t.Fatalf("call %d approved none of %d numbers", calls, len(todo))
					}
					sentAgain += len(next)
					todo = next
				}
				if got := sentAgain > 0; got != tt.wantRest {
					t.Fatalf("%d numbers answered 'send it again'; want some: %v", sentAgain, tt.wantRest)
				}
				for _, n := range nums {
					if a := approvals(t, st.Store, "acme", n); a != 1 {
						t.Fatalf("%s approved %d times; want once", n, a)
					}
				}
			})
		})
	}
}

// Without a deadline (a caller that set none) the work is not bounded.
func TestWorkBudgetWithoutDeadline(t *testing.T) {
	b := newWorkBudget(context.Background())
	if b.spent() {
		t.Fatal("a call without a deadline ran out of time")
	}
	ctx, cancel := b.callContext(context.Background())
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("a call without a deadline got one")
	}
}
