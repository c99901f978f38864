package workflow

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// The release state machine (Amazon States Language, JSONPath) is this one
// file. The CDK stack and the emulator tests both render it with Render, so
// there is no second copy to drift.
//
//go:embed release.asl.json
var definition string

// Params fill the definition's ${...} placeholders.
type Params struct {
	// TasksFunctionARN is the release-tasks Lambda (a CDK token in the stack).
	TasksFunctionARN string
	// ZoomRetryIntervalSeconds and ZoomRetryMaxAttempts shape the retries of
	// Zoom throttling and unavailability (exponential ×2, full jitter, ≤ 60 s).
	ZoomRetryIntervalSeconds int
	ZoomRetryMaxAttempts     int
}

// DefaultParams are the production retry settings: 2, 4, 8, ... s (jittered),
// 6 attempts, about two minutes before a release is given up as FAILED.
func DefaultParams(tasksFunctionARN string) Params {
	return Params{TasksFunctionARN: tasksFunctionARN, ZoomRetryIntervalSeconds: 2, ZoomRetryMaxAttempts: 6}
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z]+)\}`)

// Render returns the definition with every placeholder filled. It fails on
// an unknown placeholder, a bad value or a result that is not JSON.
func Render(p Params) (string, error) {
	if p.TasksFunctionARN == "" || p.ZoomRetryIntervalSeconds < 1 || p.ZoomRetryMaxAttempts < 0 {
		return "", fmt.Errorf("render state machine: incomplete params %+v", p)
	}
	values := map[string]string{
		"TasksFunctionArn":         p.TasksFunctionARN,
		"ZoomRetryIntervalSeconds": strconv.Itoa(p.ZoomRetryIntervalSeconds),
		"ZoomRetryMaxAttempts":     strconv.Itoa(p.ZoomRetryMaxAttempts),
	}
	var missing []string
	out := placeholder.ReplaceAllStringFunc(definition, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("render state machine: no value for %v", missing)
	}
	if !json.Valid([]byte(out)) {
		return "", fmt.Errorf("render state machine: result is not valid JSON")
	}
	return out, nil
}
