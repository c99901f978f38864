// Package workflow is the release workflow's Step Functions adapter: its
// state machine definition, and starting, waking, describing and stopping
// its executions (one per customer, number and approval attempt, named by
// Release.ExecutionName; a long wait goes on in successor executions, one
// generation after another, so no history nears Step Functions' limit).
// Nothing else in the service calls Step Functions or knows an execution's
// ARN.
package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Release identifies one approval attempt of one number, and is the input of
// its executions. An approval starts generation 0 with the first three
// fields (and NotBefore when paced); the fields after them are set for a successor execution
// (ContinueAsNew in the definition), which carries on the same release.
type Release struct {
	CustomerID string `json:"customer_id"`
	Number     string `json:"number"`
	Attempt    int    `json:"attempt"`
	// Generation counts the executions of this attempt before this one.
	Generation int `json:"generation,omitempty"`
	// StartedAt is when generation 0 started (RFC 3339): the overall
	// deadline counts from there.
	StartedAt string `json:"started_at,omitempty"`
	// Trouble is the trouble record the predecessor ended with, so a
	// successor does not grant the retry budget anew.
	Trouble *Trouble `json:"trouble,omitempty"`
	// NotBefore, on a first execution, is the start its pacing gave it
	// (RFC 3339, whole seconds, UTC): the execution waits until then before
	// it calls Zoom (shared/pacing). Empty: at once.
	NotBefore string `json:"not_before,omitempty"`
}

// NotBefore formats a paced start for Release.NotBefore: Step Functions'
// Wait timestamp, in whole seconds (the second it falls in; the rate
// limiter absorbs the starts of one second).
func NotBefore(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// Trouble is the execution's record of transient trouble.
type Trouble struct {
	// Since is when the trouble began (RFC 3339), "" when there is none.
	Since string `json:"since"`
}

// ExecutionName is deterministic, so starting the same attempt (or the
// same generation of it) twice is harmless: <customer>-<digits>-<attempt>,
// and -g<generation> after it for a successor. Step Functions names allow
// 80 characters of [A-Za-z0-9-_].
func (r Release) ExecutionName() string {
	clean := func(s string) string {
		return strings.Map(func(c rune) rune {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
				return c
			}
			return '_'
		}, s)
	}
	digits := strings.TrimPrefix(r.Number, "+")
	suffix := fmt.Sprintf("-%s-%d", clean(digits), r.Attempt)
	if r.Generation > 0 {
		suffix += fmt.Sprintf("-g%d", r.Generation)
	}
	customer := clean(r.CustomerID)
	if max := 80 - len(suffix); len(customer) > max {
		// Keep names of long customer ids distinct: prefix plus a hash.
		sum := sha256.Sum256([]byte(r.CustomerID))
		customer = customer[:max-9] + "_" + hex.EncodeToString(sum[:4])
	}
	return customer + suffix
}

// ErrEnded says the execution of an approval attempt has already run to
// its end, so it cannot be started again under its name.
var ErrEnded = errors.New("the execution of this approval attempt has already ended")

// Starter starts the release workflow of one approval attempt: idempotent
// while it runs (whatever the input it was started with), ErrEnded once it
// has ended.
type Starter interface {
	Start(ctx context.Context, r Release) error
}

// ErrNoExecution says the execution of an approval attempt was never
// started.
var ErrNoExecution = errors.New("the execution of this approval attempt does not exist")

// Execution is what Step Functions says of one execution.
type Execution struct {
	// Running is true until the execution ends; Status names how it
	// stands (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED).
	Running bool
	Status  string
	// Started is when the release's first execution started: a successor
	// execution's own start is later, but the overall deadline counts from
	// its generation 0.
	Started time.Time
}

// Describer reads an execution by its name: ErrNoExecution when it was
// never started.
type Describer interface {
	Describe(ctx context.Context, name string) (Execution, error)
}

// Stopper stops a running execution. errorName and cause are recorded in
// its history (the error a stopped execution ends with, and why).
type Stopper interface {
	Stop(ctx context.Context, name, errorName, cause string) error
}

// SuccessorStarter starts the successor execution of a release on the
// state machine stateMachineARN (the state machine's own, which an
// execution knows from its context): idempotent, and a successor that has
// already run is success too, since it was started.
type SuccessorStarter interface {
	StartSuccessor(ctx context.Context, stateMachineARN string, r Release) error
}

// Rechecker wakes a workflow that waits for a number to be unassigned so it
// checks Zoom again now, rather than at its next timer.
type Rechecker interface {
	Recheck(ctx context.Context, taskToken string) error
}
