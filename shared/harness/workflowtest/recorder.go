// Package workflowtest has a stand-in for the release workflow's Step
// Functions adapter (workflow.StepFunctions): it records starts and
// rechecks and keeps an execution per started attempt, which runs until
// the test ends it or it is stopped.
package workflowtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"numberrelease/shared/workflow"
)

// Recorder records starts and rechecks; StartErr, when set, is returned by
// Start. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	Starts   []workflow.Release
	Rechecks []string
	StartErr error
	// Now is the clock executions start by (default time.Now).
	Now func() time.Time

	executions map[string]*workflow.Execution
	stops      []string
}

var (
	_ workflow.Starter   = (*Recorder)(nil)
	_ workflow.Rechecker = (*Recorder)(nil)
	_ workflow.Describer = (*Recorder)(nil)
	_ workflow.Stopper   = (*Recorder)(nil)
)

// Start records rel and starts its execution, as Step Functions does: a
// start of a running execution is success, one of an ended execution
// fails with workflow.ErrEnded.
func (r *Recorder) Start(_ context.Context, rel workflow.Release) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.StartErr != nil {
		return r.StartErr
	}
	name := rel.ExecutionName()
	if ex, ok := r.executions[name]; ok && !ex.Running {
		return fmt.Errorf("start execution %s: %w", name, workflow.ErrEnded)
	}
	r.Starts = append(r.Starts, rel)
	if r.executions == nil {
		r.executions = map[string]*workflow.Execution{}
	}
	if _, ok := r.executions[name]; !ok {
		now := time.Now
		if r.Now != nil {
			now = r.Now
		}
		started := now()
		if first, err := time.Parse(time.RFC3339Nano, rel.StartedAt); err == nil {
			started = first // a successor: Describe reports the release's first start, as Step Functions' adapter does
		}
		r.executions[name] = &workflow.Execution{Running: true, Status: "RUNNING", Started: started}
	}
	return nil
}

// Recheck records the token.
func (r *Recorder) Recheck(_ context.Context, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rechecks = append(r.Rechecks, token)
	return nil
}

// Describe says how the execution called name stands:
// workflow.ErrNoExecution when it was never started.
func (r *Recorder) Describe(_ context.Context, name string) (workflow.Execution, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ex, ok := r.executions[name]
	if !ok {
		return workflow.Execution{}, fmt.Errorf("describe execution %s: %w", name, workflow.ErrNoExecution)
	}
	return *ex, nil
}

// Stop ends a running execution as ABORTED and records its name.
func (r *Recorder) Stop(_ context.Context, name, _, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ex, ok := r.executions[name]
	if !ok {
		return fmt.Errorf("stop execution %s: %w", name, workflow.ErrNoExecution)
	}
	ex.Running, ex.Status = false, "ABORTED"
	r.stops = append(r.stops, name)
	return nil
}

// End ends the execution called name by itself, with status (SUCCEEDED,
// FAILED, ABORTED, TIMED_OUT).
func (r *Recorder) End(name, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ex, ok := r.executions[name]; ok {
		ex.Running, ex.Status = false, status
	}
}

// Started returns a copy of the recorded starts.
func (r *Recorder) Started() []workflow.Release {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workflow.Release(nil), r.Starts...)
}

// Stopped returns the names of the executions Stop stopped.
func (r *Recorder) Stopped() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.stops...)
}
