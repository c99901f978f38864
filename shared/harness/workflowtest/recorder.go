// Package workflowtest has a test double that records workflow starts.
package workflowtest

import (
	"context"
	"sync"

	"numberrelease/shared/workflow"
)

// Recorder records starts and rechecks; Err, when set, is returned by Start.
type Recorder struct {
	mu       sync.Mutex
	Starts   []workflow.Release
	Rechecks []string
	StartErr error
}

// Start records r.
func (r *Recorder) Start(_ context.Context, rel workflow.Release) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.StartErr != nil {
		return r.StartErr
	}
	r.Starts = append(r.Starts, rel)
	return nil
}

// Recheck records the token.
func (r *Recorder) Recheck(_ context.Context, token string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Rechecks = append(r.Rechecks, token)
	return nil
}

// Started returns a copy of the recorded starts.
func (r *Recorder) Started() []workflow.Release {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workflow.Release(nil), r.Starts...)
}
