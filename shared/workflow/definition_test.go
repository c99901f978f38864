package workflow

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func TestRenderedDefinitionIsComplete(t *testing.T) {
	out, err := Render(DefaultParams("arn:aws:lambda:us-east-1:123456789012:function:release-tasks"))
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
	// Zoom retries name the errors, never States.ALL.
	for _, name := range []string{"CheckAssignment", "Release"} {
		first := def.States[name]["Retry"].([]any)[0].(map[string]any)
		if errs := first["ErrorEquals"].([]any); len(errs) != 2 || errs[0] != "Zoom.Throttled" || first["JitterStrategy"] != "FULL" {
			t.Errorf("%s retry = %v", name, first)
		}
	}
}

func TestRenderRefusesIncompleteParams(t *testing.T) {
	for _, p := range []Params{{}, {TasksFunctionARN: "x"}, {TasksFunctionARN: "x", ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: -1}} {
		if _, err := Render(p); err == nil {
			t.Errorf("Render(%+v) succeeded", p)
		}
	}
}
