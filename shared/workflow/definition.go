package workflow

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"numberrelease/shared/config"
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
	// ReleaseQueueURL is the SQS queue the Release state hands numbers to,
	// with their task tokens, for the release-batch consumer.
	ReleaseQueueURL string
	// ReleaseTimeoutSeconds is how long the Release state waits for the
	// consumer's answer before it sends the number again (States.Timeout,
	// retried like unavailability). Keep it above the queue's visibility
	// timeout, so a message a crashed consumer left is redelivered first.
	ReleaseTimeoutSeconds int
	// ZoomRetryIntervalSeconds is the first retry interval of Zoom errors
	// (then ×2 per attempt, full jitter).
	ZoomRetryIntervalSeconds int
	// ZoomRetryMaxAttempts bounds the retries of Zoom.Unavailable (5xx,
	// timeouts; delays ≤ 60 s).
	ZoomRetryMaxAttempts int
	// ZoomThrottleMaxAttempts and ZoomThrottleMaxDelaySeconds shape the
	// retries of throttling: Zoom.Throttled (a 429 the client did not
	// absorb, or no slot within the client-side pacing's wait), Tasks.Busy
	// (every release-tasks concurrency slot held, shared/slots), and in every
	// task state Lambda.TooManyRequestsException (the release-tasks
	// function's concurrency is capped). Throttling means "wait your turn",
	// not "something is down", so it gets its own, larger budget.
	ZoomThrottleMaxAttempts     int
	ZoomThrottleMaxDelaySeconds int
	// MaxRounds caps the rounds of the loop an execution runs before it
	// continues in a successor; 0 means the most the history bound allows
	// (HistoryBudget events with every retry used up), which Render
	// computes. A larger value is refused.
	MaxRounds int
}

// DefaultParams are the production retry settings.
//
// Unavailability: 2, 4, 8, ... s (jittered), 6 attempts, about two minutes
// before a release is given up as FAILED, as before.
//
// Throttling (Zoom.Throttled, Tasks.Busy, Lambda.TooManyRequestsException): 2, 4, 8,
// 16, 32, then 60 s caps (full jitter), 20 attempts. Sizing: a 500-number
// approval (the largest) at Pro limits needs 500 Light calls (the lookups)
// and 500 Medium calls (the deletes), at least 50 s of the account's
// Medium budget, with 500 executions contending for it. A model with both
// calls Medium (as the Phone API's list was: 1000 calls, 100 s, more
// contention than now) of the client-side pacing (fixed one-second
// windows, 10 s maximum wait, callers that cannot be served in time give
// up at once) and of these retries (retrymodel_test.go) served
// every number in 100 runs, no step needing more than 11 retries, all
// released within 123 s; with release-tasks capped at 10 concurrent
// invocations, 12 retries and 150 s. 20 leaves room for other apps using
// the same account's budget and for several large approvals at once; a
// number throttled through all of them is FAILED after about 8 minutes on
// average (16 at most) and may be approved again.
//
// The Release state waits DefaultReleaseTimeoutSeconds for the consumer.
func DefaultParams(tasksFunctionARN, releaseQueueURL string) Params {
	return Params{TasksFunctionARN: tasksFunctionARN, ReleaseQueueURL: releaseQueueURL, ReleaseTimeoutSeconds: DefaultReleaseTimeoutSeconds,
		ZoomRetryIntervalSeconds: 2, ZoomRetryMaxAttempts: 6, ZoomThrottleMaxAttempts: 20, ZoomThrottleMaxDelaySeconds: 60}
}

// DefaultReleaseTimeoutSeconds is how long the Release state waits for the
// release-batch consumer's answer: above the queue's visibility timeout
// (ReleaseQueueVisibilitySeconds), so a message left by a consumer that
// crashed is delivered again before the state gives up on it.
const DefaultReleaseTimeoutSeconds = 600

// ReleaseQueueVisibilitySeconds is the release queue's visibility timeout:
// six times the consumer's timeout (ReleaseBatchTimeoutSeconds), as AWS
// advises for a queue behind a Lambda event source mapping.
const ReleaseQueueVisibilitySeconds = 6 * ReleaseBatchTimeoutSeconds

// ReleaseBatchTimeoutSeconds is the release-batch function's timeout.
const ReleaseBatchTimeoutSeconds = 60

// ReleaseBatchSize is the most release messages one release-batch
// invocation receives (the SQS event source mapping's BatchSize; above 10
// it needs a batching window). The local harness's queue poller hands the
// consumer batches of the same size.
const ReleaseBatchSize = 200

// ReleaseBatchWindowSeconds is how long the event source mapping gathers
// messages before it invokes release-batch with fewer than
// ReleaseBatchSize (MaximumBatchingWindowInSeconds): the longest a release
// waits in the queue for others to join its batch. The local poller waits
// as long.
const ReleaseBatchWindowSeconds = 5

// ReleaseBatchMaxConcurrency is the most release-batch invocations the
// event source mapping runs at once (its ScalingConfig MaximumConcurrency),
// and the most the local poller runs. It is defined in shared/config, whose
// stage validation checks that the account's concurrency quota leaves room
// for them beside release-tasks' cap (shared/config cannot import this
// package: this package's tests read the stages).
const ReleaseBatchMaxConcurrency = config.ReleaseBatchMaxConcurrency

var placeholder = regexp.MustCompile(`\$\{([A-Za-z]+)\}`)

// Render returns the definition with every placeholder filled. It fails on
// an unknown placeholder, a bad value, a result that is not JSON, or
// MaxRounds beyond what keeps an execution's history within HistoryBudget.
func Render(p Params) (string, error) {
	if p.TasksFunctionARN == "" || p.ReleaseQueueURL == "" || p.ReleaseTimeoutSeconds < 1 || p.ZoomRetryIntervalSeconds < 1 || p.ZoomRetryMaxAttempts < 0 ||
		p.ZoomThrottleMaxAttempts < 1 || p.ZoomThrottleMaxDelaySeconds < 1 || p.MaxRounds < 0 {
		return "", fmt.Errorf("render state machine: incomplete params %+v", p)
	}
	// The worst case of a round does not depend on MaxRounds: render once
	// to measure it, then with the rounds it allows.
	probe, err := fill(p, 1)
	if err != nil {
		return "", err
	}
	model, err := NewHistoryModel(probe)
	if err != nil {
		return "", fmt.Errorf("render state machine: %w", err)
	}
	bound, err := model.Bound()
	if err != nil {
		return "", fmt.Errorf("render state machine: %w", err)
	}
	most := bound.RoundsWithin(HistoryBudget)
	if most < 1 {
		return "", fmt.Errorf("render state machine: one round can record %d history events, so no round fits in %d", bound.Round, HistoryBudget)
	}
	rounds := p.MaxRounds
	if rounds == 0 {
		rounds = most
	}
	if rounds > most {
		return "", fmt.Errorf("render state machine: MaxRounds %d: at most %d rounds of up to %d events each keep a history within %d events",
			p.MaxRounds, most, bound.Round, HistoryBudget)
	}
	return fill(p, rounds)
}

// fill replaces the placeholders.
func fill(p Params, rounds int) (string, error) {
	values := map[string]string{
		"TasksFunctionArn":            p.TasksFunctionARN,
		"ReleaseQueueUrl":             p.ReleaseQueueURL,
		"ReleaseTimeoutSeconds":       strconv.Itoa(p.ReleaseTimeoutSeconds),
		"ZoomRetryIntervalSeconds":    strconv.Itoa(p.ZoomRetryIntervalSeconds),
		"ZoomRetryMaxAttempts":        strconv.Itoa(p.ZoomRetryMaxAttempts),
		"ZoomThrottleMaxAttempts":     strconv.Itoa(p.ZoomThrottleMaxAttempts),
		"ZoomThrottleMaxDelaySeconds": strconv.Itoa(p.ZoomThrottleMaxDelaySeconds),
		"MaxRounds":                   strconv.Itoa(rounds),
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
