package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/notify"
)

// Queue is the part of SQS the Deliverer uses: the wait before a failed
// delivery's next attempt is its message's visibility timeout.
type Queue interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ Queue = (*sqs.Client)(nil)

// BatchSize is the delivery queue's batch size (one invocation delivers
// all of a batch at once).
const (
	BatchSize = 10
	// Timeout is deliver-webhooks' timeout: a batch's deliveries run at
	// once, each within DeliveryTimeout, with time to spare for the
	// lookups and the records.
	Timeout = 30 * time.Second
	// QueueVisibility is the delivery queue's default visibility timeout:
	// six times the function's, as AWS advises behind an event source
	// mapping.
	QueueVisibility = 6 * Timeout
	// QueueRetention keeps a message four days, well past the retries'
	// span (ProductionBackoff().Span()).
	QueueRetention = 4 * 24 * time.Hour
)

// Deliverer consumes the delivery queue: each message is an EventBridge
// event of a status change (notify.Detail), delivered to its provider's
// webhook if the provider has one that takes the event's type.
type Deliverer struct {
	Store    *Registrations
	Box      *SecretBox
	Sender   *Sender
	Queue    Queue
	QueueURL string
	Backoff  Backoff
	Log      *slog.Logger
	Now      func() time.Time
}

// busEvent is the part of an EventBridge event read here.
type busEvent struct {
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Detail     json.RawMessage `json:"detail"`
}

// errNoDelivery marks a message that needs no delivery.
var errNoDelivery = errors.New("nothing to deliver")

// HandleSQS delivers a batch (all at once) and reports the messages whose
// delivery failed (ReportBatchItemFailures), each with its visibility
// timeout set to the backoff of its attempt (ApproximateReceiveCount), so
// SQS hands it over again then. After Backoff.MaxAttempts receives the
// queue's redrive policy moves it to the dead-letter queue.
func (d *Deliverer) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		wg.Go(func() {
			if err := d.handle(ctx, rec); err != nil {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return resp, nil
}

// attempt is the message's receive count (1 on the first delivery).
func attempt(rec events.SQSMessage) int {
	n, err := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// handle delivers one message; an error means "try again later", after
// the visibility timeout it set.
func (d *Deliverer) handle(ctx context.Context, rec events.SQSMessage) error {
	n := attempt(rec)
	log := d.Log.With("message_id", rec.MessageId, "attempt", n)
	err := d.deliver(ctx, rec, n, log)
	switch {
	case err == nil || errors.Is(err, errNoDelivery):
		return nil
	case n >= d.Backoff.MaxAttempts:
		log.ErrorContext(ctx, "webhook delivery failed for the last time; the message goes to the dead-letter queue", "err", err)
		d.retryAfter(ctx, rec, 0, log)
	default:
		wait := d.Backoff.After(n)
		log.WarnContext(ctx, "webhook delivery failed; retrying", "err", err, "retry_in_s", seconds(wait))
		d.retryAfter(ctx, rec, wait, log)
	}
	return err
}

func seconds(d time.Duration) int32 { return int32(math.Ceil(d.Seconds())) }

func (d *Deliverer) retryAfter(ctx context.Context, rec events.SQSMessage, wait time.Duration, log *slog.Logger) {
	if _, err := d.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(d.QueueURL), ReceiptHandle: aws.String(rec.ReceiptHandle), VisibilityTimeout: seconds(wait),
	}); err != nil {
		// The queue's own visibility timeout applies instead.
		log.WarnContext(ctx, "could not set the retry's visibility timeout", "err", err)
	}
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) deliver(ctx context.Context, rec events.SQSMessage, n int, log *slog.Logger) error {
	var env busEvent
	if err := json.Unmarshal([]byte(rec.Body), &env); err != nil || env.DetailType != notify.DetailType || env.Source != notify.Source {
		log.ErrorContext(ctx, "not a status-change event; dropped", "detail_type", env.DetailType, "source", env.Source)
		return errNoDelivery
	}
	var det notify.Detail
	if err := json.Unmarshal(env.Detail, &det); err != nil || det.ProviderID == "" {
		log.ErrorContext(ctx, "status-change event without a provider; dropped", "event_id", env.ID)
		return errNoDelivery
	}
	reg, ok, err := d.Store.Get(ctx, det.ProviderID)
	if err != nil {
		return err
	}
	if !ok {
		return errNoDelivery
	}
	msg, err := ChangeMessage(det)
	if err != nil {
		log.ErrorContext(ctx, "status change cannot be encoded; dropped", "err", err)
		return errNoDelivery
	}
	if !Wants(reg.Events, msg.Type) {
		return errNoDelivery
	}
	secret, err := d.Box.Open(ctx, det.ProviderID, reg.Sealed)
	if err != nil {
		return err
	}
	key, err := DecodeSecret(secret)
	if err != nil {
		return err
	}
	res := d.Sender.Send(ctx, reg.URL, key, msg.ID, msg.Body)
	rd := Delivery{ID: msg.ID, Type: msg.Type, Number: msg.Number, CustomerID: msg.CustomerID, Attempt: n,
		StatusCode: res.StatusCode, Error: res.Error, Succeeded: res.OK(), DurationMS: res.DurationMS, At: d.now().UTC()}
	if err := d.Store.Record(ctx, det.ProviderID, rd); err != nil {
		log.WarnContext(ctx, "delivery not recorded", "err", err)
	}
	log.InfoContext(ctx, "webhook delivered", "provider_id", det.ProviderID, "webhook_id", msg.ID, "type", msg.Type,
		"status_code", res.StatusCode, "error", res.Error, "duration_ms", res.DurationMS)
	if !res.OK() {
		if res.Error != "" {
			return fmt.Errorf("delivery %s: %s", msg.ID, res.Error)
		}
		return fmt.Errorf("delivery %s: receiver answered %d", msg.ID, res.StatusCode)
	}
	return nil
}
