package tasks

import (
	"math/rand/v2"
	"time"
)

// TriageOutput answers the triage action; the state machine keeps it as
// the execution's trouble record ($.trouble). Every field is always present.
type TriageOutput struct {
	// Retry says whether to pause and start over from the check.
	Retry bool `json:"retry"`
	// Since is when the trouble began (RFC 3339), carried to the next round.
	Since string `json:"since"`
	// WaitSeconds is the pause before the next round.
	WaitSeconds int `json:"wait_seconds"`
}

// throttling errors mean "wait your turn": retried until the overall deadline.
var throttling = map[string]bool{ErrZoomThrottled: true, ErrTasksBusy: true, "Lambda.TooManyRequestsException": true}

// transient errors mean "something is down for now": retried for the budget.
var transient = map[string]bool{
	ErrZoomUnavailable: true, ErrStoreUnavailable: true,
	"Lambda.ServiceException": true, "Lambda.AWSLambdaException": true, "Lambda.SdkClientException": true,
	"Lambda.Unknown": true, "Sandbox.Timedout": true,
}

// triage decides what to do about an error that outlasted a state's own
// retries: throttling is retried until the overall deadline (MaxWait from
// the execution's start); other transient trouble until it has lasted
// RetryBudget; anything else, or trouble past its limit, is a failure to
// record. It reads and writes nothing, so it cannot fail for the reasons
// it weighs.
func (t *Tasks) triage(in Input) (TriageOutput, error) {
	now := t.now().UTC()
	since, err := time.Parse(time.RFC3339Nano, in.TroubleSince)
	if err != nil || since.After(now) {
		since = now
	}
	out := TriageOutput{Since: since.Format(time.RFC3339Nano)}
	name := ""
	if in.Error != nil {
		name = in.Error.Error
	}
	switch {
	case throttling[name]:
		started, _, err := in.firstStart()
		if err != nil {
			return out, err
		}
		out.Retry = now.Before(started.Add(t.cfg.MaxWait))
	case transient[name]:
		out.Retry = now.Sub(since) < t.cfg.RetryBudget
	}
	if out.Retry {
		// Between half the pause and all of it: rounds of many executions
		// that hit the same trouble together spread out.
		half := int(t.cfg.RetryPause / time.Second / 2)
		out.WaitSeconds = max(1, half+rand.IntN(half+1))
	}
	return out, nil
}
