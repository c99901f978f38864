package workflow

import (
	"strings"
	"testing"
	"time"

	"numberrelease/shared/config"
)

// retrySettings are the state machine's retry settings where it runs:
// production (the CDK stack), the local system (devstack.Defaults) and the
// end-to-end suite (e2e/main_test.go).
var retrySettings = []struct {
	name   string
	params Params
}{
	{"production", DefaultParams("arn:aws:lambda:us-east-1:123456789012:function:release-tasks", "https://sqs.us-east-1.amazonaws.com/123456789012/release")},
	{"local", Params{TasksFunctionARN: "x", ReleaseQueueURL: "q", ReleaseTimeoutSeconds: 120, ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: 3, ZoomThrottleMaxAttempts: 40, ZoomThrottleMaxDelaySeconds: 20}},
	{"e2e", Params{TasksFunctionARN: "x", ReleaseQueueURL: "q", ReleaseTimeoutSeconds: 120, ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: 2, ZoomThrottleMaxAttempts: 40, ZoomThrottleMaxDelaySeconds: 20}},
}

func boundOf(t *testing.T, p Params) (*HistoryModel, HistoryBound) {
	t.Helper()
	def, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewHistoryModel(def)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Bound()
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

// TestLongestAllowedWaitStaysUnderTheHistoryLimit: the longest wait a
// stage allows (the 7-day overall deadline, the stage's smallest
// RecheckSeconds, every retry of every state used up in every round) never
// puts more than HistoryBudget events in one execution's history: the
// wait goes on in successor executions, MaxRounds rounds each.
func TestLongestAllowedWaitStaysUnderTheHistoryLimit(t *testing.T) {
	path, err := config.FindCDKFile()
	if err != nil {
		t.Fatal(err)
	}
	const maxWait = 7 * 24 * time.Hour // MaxWaitSeconds' default (infra/stack/parameters.go)
	for _, stage := range []string{"dev", "prod", "local"} {
		st, err := config.LoadStageFile(path, stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range retrySettings {
			t.Run(stage+"/"+rs.name, func(t *testing.T) {
				// The re-check timer alone makes this many rounds; callbacks
				// (hints, repeated approvals) and retry rounds add more.
				rounds := int(maxWait / (time.Duration(st.RecheckSecondsMin) * time.Second))
				var b HistoryBound
				def, err := Render(rs.params)
				if err == nil {
					var m *HistoryModel
					if m, err = NewHistoryModel(def); err == nil {
						b, err = m.Bound()
					}
				}
				if err != nil {
					// Say what one execution holding the whole wait records.
					raw, _ := fill(rs.params, 1)
					m, merr := NewHistoryModel(raw)
					if merr != nil {
						t.Fatal(merr)
					}
					plain, perr := m.PathEvents("CheckAssignment", "Checked", "Route", "WaitForUnassign")
					if perr != nil {
						t.Fatal(perr)
					}
					t.Fatalf("no bound on one execution's history (%v): the %d re-check rounds of a %s wait at %d s would put at least %d events (%d a round, no retries) in one execution, over the limit of %d",
						err, rounds, maxWait, st.RecheckSecondsMin, rounds*plain, plain, HistoryLimit)
				}
				perExecution := min(rounds, b.MaxRounds)
				worst := executionEvents + b.Head + perExecution*b.Round + b.Tail
				executions := (rounds + b.MaxRounds - 1) / b.MaxRounds
				t.Logf("%d rounds at %d s: %d executions of at most %d rounds; worst case %d events each (head %d, round %d, tail %d)",
					rounds, st.RecheckSecondsMin, executions, b.MaxRounds, worst, b.Head, b.Round, b.Tail)
				if worst > HistoryBudget || worst >= HistoryLimit {
					t.Fatalf("one execution may record %d events; want at most %d (limit %d)", worst, HistoryBudget, HistoryLimit)
				}
			})
		}
	}
}

// TestHistoryBoundOfTheDefinition pins the model's reading of the
// definition: the worst round is a check and a wait that used up every
// retrier, then a triage that did too; MaxRounds is the most rounds whose
// worst case fits in HistoryBudget.
func TestHistoryBoundOfTheDefinition(t *testing.T) {
	for _, rs := range retrySettings {
		t.Run(rs.name, func(t *testing.T) {
			m, b := boundOf(t, rs.params)
			// One retrier's attempts each: throttling, unavailability, Lambda
			// service errors (4).
			checkAttempts := 1 + rs.params.ZoomThrottleMaxAttempts + rs.params.ZoomRetryMaxAttempts + 4
			if got := m.MaxAttempts("CheckAssignment"); got != checkAttempts {
				t.Errorf("CheckAssignment: %d attempts at most; want %d", got, checkAttempts)
			}
			wait, _ := m.StateEvents("WaitForUnassign", checkAttempts) // the same retriers
			check, _ := m.StateEvents("CheckAssignment", checkAttempts)
			triage, _ := m.StateEvents("Triage", m.MaxAttempts("Triage"))
			// NextRound, Budget, Checked, Route, AfterTriage, Pause: 2 each.
			if want := 6*2 + check + wait + triage; b.Round != want {
				t.Errorf("worst round = %d events; want %d (check %d, wait %d, triage %d)", b.Round, want, check, wait, triage)
			}
			if b.Total() > HistoryBudget || b.RoundsWithin(HistoryBudget) != b.MaxRounds || b.MaxRounds < 10 {
				t.Errorf("bound %+v: total %d, rounds within the budget %d", b, b.Total(), b.RoundsWithin(HistoryBudget))
			}
		})
	}
}

// TestEveryLoopIsCounted: a loop that bypasses NextRound has no bound, and
// the model says which.
func TestEveryLoopIsCounted(t *testing.T) {
	def, err := Render(DefaultParams("x", "https://sqs.us-east-1.amazonaws.com/123456789012/release"))
	if err != nil {
		t.Fatal(err)
	}
	pause := `"SecondsPath": "$.trouble.wait_seconds",
      "Next": "NextRound"`
	if !strings.Contains(def, pause) {
		t.Fatal("the Pause state is not where the test expects it")
	}
	m, err := NewHistoryModel(strings.Replace(def, pause, `"SecondsPath": "$.trouble.wait_seconds",
      "Next": "CheckAssignment"`, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Bound(); err == nil || !strings.Contains(err.Error(), "Pause -> CheckAssignment") || !strings.Contains(err.Error(), "does not pass through NextRound") {
		t.Fatalf("Bound of a definition with an uncounted loop = %v; want the loop named", err)
	}
}

func TestRenderMaxRounds(t *testing.T) {
	_, b := boundOf(t, DefaultParams("x", "https://sqs.us-east-1.amazonaws.com/123456789012/release"))
	tests := []struct {
		name    string
		rounds  int
		want    int // in the Budget state; 0: refused
		wantErr string
	}{
		{"default: the most the budget allows", 0, b.MaxRounds, ""},
		{"fewer (tests)", 2, 2, ""},
		{"the most", b.MaxRounds, b.MaxRounds, ""},
		{"one more than fits", b.MaxRounds + 1, 0, "keep a history within 20000 events"},
		{"negative", -1, 0, "incomplete params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams("x", "https://sqs.us-east-1.amazonaws.com/123456789012/release")
			p.MaxRounds = tt.rounds
			def, err := Render(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render = %v; want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, err := NewHistoryModel(def)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Bound()
			if err != nil || got.MaxRounds != tt.want {
				t.Fatalf("MaxRounds in the definition = %d, %v; want %d", got.MaxRounds, err, tt.want)
			}
		})
	}
}
