package workflow

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestRenderedDefinitionIsComplete(t *testing.T) {
	out, err := Render(DefaultParams("arn:aws:lambda:us-east-1:123456789012:function:release-tasks", "https://sqs.us-east-1.amazonaws.com/123456789012/release"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "${") {
		t.Fatal("a placeholder was left unfilled")
	}
	var def struct {
		StartAt string
		States  map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(out), &def); err != nil {
		t.Fatal(err)
	}
	// Every Next/Default/Catch target exists and every state is reachable.
	reach := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if reach[name] {
			return
		}
		st, ok := def.States[name]
		if !ok {
			t.Fatalf("transition to missing state %q", name)
		}
		reach[name] = true
		var next []string
		if n, ok := st["Next"].(string); ok {
			next = append(next, n)
		}
		if n, ok := st["Default"].(string); ok {
			next = append(next, n)
		}
		for _, key := range []string{"Choices", "Catch"} {
			if list, ok := st[key].([]any); ok {
				for _, c := range list {
					next = append(next, c.(map[string]any)["Next"].(string))
				}
			}
		}
		for _, n := range next {
			walk(n)
		}
	}
	walk(def.StartAt)
	var unreachable []string
	for name := range def.States {
		if !reach[name] {
			unreachable = append(unreachable, name)
		}
	}
	sort.Strings(unreachable)
	if len(unreachable) > 0 {
		t.Fatalf("unreachable states: %v", unreachable)
	}
	// Zoom retries name the errors, never States.ALL: throttling with its
	// own budget, unavailability with the usual one, both jittered.
	for name, throttling := range map[string][]any{
		"CheckAssignment": {"Zoom.Throttled", "Tasks.Busy", "Lambda.TooManyRequestsException"},
		// The release's consumer is not a Lambda invoke of the state: only
		// Zoom's throttling reaches it.
		"Release": {"Zoom.Throttled"},
	} {
		retry := def.States[name]["Retry"].([]any)
		throttled, unavailable := retry[0].(map[string]any), retry[1].(map[string]any)
		if errs := throttled["ErrorEquals"].([]any); !slices.Equal(errs, throttling) || throttled["JitterStrategy"] != "FULL" ||
			throttled["MaxAttempts"] != float64(20) || throttled["MaxDelaySeconds"] != float64(60) || throttled["IntervalSeconds"] != float64(2) {
			t.Errorf("%s throttling retry = %v", name, throttled)
		}
		if errs := unavailable["ErrorEquals"].([]any); len(errs) < 2 || errs[0] != "Zoom.Unavailable" || errs[1] != "Store.Unavailable" || unavailable["JitterStrategy"] != "FULL" ||
			unavailable["MaxAttempts"] != float64(6) {
			t.Errorf("%s unavailability retry = %v", name, unavailable)
		}
	}
	// A release nobody answered in time (States.Timeout: the consumer
	// crashed, or its message was lost) is sent again, then triaged like
	// any unavailability: never a silent wait without end.
	if def.States["Release"]["TimeoutSeconds"] != float64(DefaultReleaseTimeoutSeconds) {
		t.Errorf("Release TimeoutSeconds = %v", def.States["Release"]["TimeoutSeconds"])
	}
	// Throttling (Tasks.Busy: no release-tasks concurrency slot; Zoom's) and
	// a timed-out release go to Triage once the state's retries are used
	// up, which retries them, never straight to RecordFailure.
	for name, errName := range map[string]string{"CheckAssignment": "Tasks.Busy", "Release": "States.Timeout"} {
		for _, want := range []string{"Zoom.Throttled", errName} {
			next := ""
			for _, c := range def.States[name]["Catch"].([]any) {
				c := c.(map[string]any)
				for _, e := range c["ErrorEquals"].([]any) {
					if next == "" && (e == want || e == "States.ALL") {
						next = c["Next"].(string)
					}
				}
			}
			if next != "Triage" {
				t.Errorf("%s sends %s to %q, want Triage", name, want, next)
			}
		}
	}
	// A DynamoDB failure (Store.Unavailable, after the SDK's own retries)
	// is transient: every task state retries it before recording a failure.
	for name, st := range def.States {
		if st["Type"] != "Task" || name == "Triage" { // Triage reads and writes nothing
			continue
		}
		retried := false
		for _, r := range st["Retry"].([]any) {
			for _, e := range r.(map[string]any)["ErrorEquals"].([]any) {
				retried = retried || e == "Store.Unavailable" || e == "States.ALL"
			}
		}
		if !retried {
			t.Errorf("%s does not retry Store.Unavailable", name)
		}
	}
	// Every task state rides out Lambda throttling (release-tasks' capped
	// concurrency) with the throttling budget, not the 4 tries of a Lambda
	// service error.
	for name, st := range def.States {
		if st["Type"] != "Task" || !strings.HasPrefix(st["Resource"].(string), "arn:aws:states:::lambda:") {
			continue
		}
		found := false
		for _, r := range st["Retry"].([]any) {
			r := r.(map[string]any)
			for _, e := range r["ErrorEquals"].([]any) {
				if e == "Lambda.TooManyRequestsException" {
					found = true
					if r["MaxAttempts"] != float64(20) || r["JitterStrategy"] != "FULL" {
						t.Errorf("%s retries Lambda throttling with %v", name, r)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s does not retry Lambda.TooManyRequestsException", name)
		}
	}
	// The check's Zoom id reaches the release, so it deletes without a lookup.
	if sel := def.States["CheckAssignment"]["ResultSelector"].(map[string]any); sel["zoom_id.$"] != "$.Payload.zoom_id" {
		t.Errorf("CheckAssignment ResultSelector = %v", sel)
	}
	if p := def.States["Release"]["Parameters"].(map[string]any)["MessageBody"].(map[string]any); p["zoom_id.$"] != "$.check.zoom_id" || p["task_token.$"] != "$$.Task.Token" {
		t.Errorf("Release payload = %v", p)
	}
}

func TestRenderRefusesIncompleteParams(t *testing.T) {
	full := DefaultParams("x", "https://sqs.us-east-1.amazonaws.com/123456789012/release")
	noThrottle, noDelay := full, full
	noThrottle.ZoomThrottleMaxAttempts, noDelay.ZoomThrottleMaxDelaySeconds = 0, 0
	for _, p := range []Params{{}, {TasksFunctionARN: "x"}, {TasksFunctionARN: "x", ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: -1}, noThrottle, noDelay} {
		if _, err := Render(p); err == nil {
			t.Errorf("Render(%+v) succeeded", p)
		}
	}
}
