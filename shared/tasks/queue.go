package tasks

// The release queue's consumer (the release-batch Lambda): the release
// workflow's Release state puts each number on an SQS queue with its
// execution's task token, and the consumer releases a batch of them
// together (ReleaseBatch: one Zoom call per batch of the delete's maximum,
// per Zoom account), then answers each token, so every number keeps its
// own execution, history and messages.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Releaser releases a batch of numbers and answers one result per input
// (*Tasks).
type Releaser interface {
	ReleaseBatch(ctx context.Context, ins []Input, holdable []bool) []error
}

var _ Releaser = (*Tasks)(nil)

// Tokens answers executions waiting on a task token (*sfn.Client).
type Tokens interface {
	SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, opts ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
	SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, opts ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
}

var _ Tokens = (*sfn.Client)(nil)

// Visibility makes a message visible again after a few seconds (*sqs.Client).
type Visibility interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ Visibility = (*sqs.Client)(nil)

// Consumer handles the release queue's batches.
type Consumer struct {
	Releaser Releaser
	Tokens   Tokens
	// Queue and QueueURL hold numbers back for the next batch (ErrHeld:
	// their message comes again after HoldSeconds); nil holds none.
	Queue    Visibility
	QueueURL string
	Log      *slog.Logger
}

// HoldSeconds is how soon a held-back number's message comes again: about
// one batching window, so that it joins the numbers arriving meanwhile.
const HoldSeconds = 5

// maxHolds is how many times one message may be held back: twice, since
// the event source mapping's concurrent pollers split the arrivals between
// their batches; far below the queue's 5 receives before its dead-letter
// queue.
const maxHolds = 2

// Step Functions' limits on SendTaskFailure's fields.
const (
	maxErrorLen = 256
	maxCauseLen = 32768
)

// queued is a message the Release state put on the queue.
type queued struct {
	Input
	id, receipt string // the SQS message id and receipt handle
	// receives counts SQS's deliveries of it, this one included.
	receives int
}

// key is one release: a message delivered twice, or sent again after a
// timeout, names the same release.
func (m queued) key() string {
	return fmt.Sprintf("%s|%s|%d", m.CustomerID, m.Number, m.Attempt)
}

// HandleSQS releases the batch's numbers and answers their tokens. A
// message that cannot be read is logged and dropped (read again, it would
// fail again; with a token, its execution is told why). A message whose
// answer could not be sent (Step Functions throttled or down) is reported
// as failed, so SQS delivers it again; releasing it again is safe.
func (c *Consumer) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	byKey := map[string][]queued{}
	var keys []string
	for _, rec := range ev.Records {
		m, err := decode(rec)
		if err != nil {
			c.Log.ErrorContext(ctx, "release queue: message dropped", "message_id", rec.MessageId, "err", err)
			if m.TaskToken != "" {
				if !c.answer(ctx, m, err) {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				}
			}
			continue
		}
		if byKey[m.key()] == nil {
			keys = append(keys, m.key())
		}
		byKey[m.key()] = append(byKey[m.key()], m)
	}
	if len(keys) == 0 {
		return resp, nil
	}
	ins, holdable := make([]Input, len(keys)), make([]bool, len(keys))
	for i, k := range keys {
		ins[i] = byKey[k][0].Input
		holdable[i] = c.Queue != nil && len(byKey[k]) == 1 && byKey[k][0].receives <= maxHolds
	}
	results := c.Releaser.ReleaseBatch(ctx, ins, holdable)
	released, held := 0, 0
	for i, k := range keys {
		if results[i] == nil {
			released++
		}
		if errors.Is(results[i], ErrHeld) {
			// Not answered: the message comes again soon (reported failed,
			// so it is not deleted) and joins the next batch.
			held++
			m := byKey[k][0]
			if _, err := c.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(c.QueueURL),
				ReceiptHandle: aws.String(m.receipt), VisibilityTimeout: HoldSeconds}); err != nil {
				c.Log.WarnContext(ctx, "held-back release comes again only after the queue's visibility timeout", "number", m.Number, "err", err)
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.id})
			continue
		}
		// Every token of the release gets the same answer: only the
		// newest is still awaited, the others are answered in vain.
		for _, m := range byKey[k] {
			if !c.answer(ctx, m, results[i]) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.id})
			}
		}
	}
	c.Log.InfoContext(ctx, "release batch done", "messages", len(ev.Records), "releases", len(keys), "released", released,
		"held", held, "redeliver", len(resp.BatchItemFailures)-held)
	return resp, nil
}

// decode reads one message. An error keeps whatever token was found.
func decode(rec events.SQSMessage) (queued, error) {
	m := queued{id: rec.MessageId, receipt: rec.ReceiptHandle, receives: maxHolds + 1}
	if n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"]); err == nil {
		m.receives = n
	}
	if err := json.Unmarshal([]byte(rec.Body), &m.Input); err != nil {
		return m, fmt.Errorf("message is not a release: %w", err)
	}
	var missing []string
	for name, v := range map[string]string{"customer_id": m.CustomerID, "number": m.Number, "task_token": m.TaskToken} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if m.Attempt < 1 {
		missing = append(missing, "attempt")
	}
	if m.Action != "release" {
		return m, fmt.Errorf("message action %q: want release", m.Action)
	}
	if len(missing) > 0 {
		return m, fmt.Errorf("release message without %s", strings.Join(missing, ", "))
	}
	return m, nil
}

// answer tells m's execution how its release went: success, or the named
// error the state machine retries or catches. It reports false when the
// answer could not be sent and is worth sending again; a token that is no
// longer awaited (its state timed out, the execution ended) needs none.
func (c *Consumer) answer(ctx context.Context, m queued, result error) bool {
	var err error
	if result == nil {
		_, err = c.Tokens.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(m.TaskToken), Output: aws.String("{}")})
	} else {
		name, cause := ErrMisconfigured, result.Error()
		var named messages.InvokeResponse_Error
		if errors.As(result, &named) {
			name, cause = named.Type, named.Message
		}
		_, err = c.Tokens.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(m.TaskToken),
			Error: aws.String(truncate(name, maxErrorLen)), Cause: aws.String(truncate(cause, maxCauseLen))})
	}
	var gone *sfntypes.TaskTimedOut
	var missing *sfntypes.TaskDoesNotExist
	var invalid *sfntypes.InvalidToken
	switch {
	case err == nil:
		return true
	case errors.As(err, &gone), errors.As(err, &missing), errors.As(err, &invalid):
		c.Log.InfoContext(ctx, "release answered to a task no longer waiting", "customer_id", m.CustomerID, "number", m.Number,
			"attempt", m.Attempt, "err", err)
		return true
	}
	c.Log.WarnContext(ctx, "release not answered: the message comes again", "customer_id", m.CustomerID, "number", m.Number,
		"attempt", m.Attempt, "err", err)
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
