// Package sqspoll stands in for Lambda's SQS event source mapping where
// there is none (the local system, the tests: moto does not run them): it
// receives a queue's messages in batches, as the mapping's batch size and
// batching window gather them, hands each batch to a handler written for
// Lambda (tasks.Consumer.HandleSQS), and deletes the messages the
// handler did not report as failed. A failed message stays on the queue
// and comes again once its visibility timeout ends, as on AWS.
package sqspoll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of the SQS API the poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Handler handles one batch the way a Lambda function behind an SQS event
// source mapping does (with ReportBatchItemFailures).
type Handler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// SQS's own bounds.
const (
	maxReceive = 10 // messages one ReceiveMessage returns
	maxDelete  = 10 // entries of one DeleteMessageBatch
)

// Poller feeds one queue to a handler.
type Poller struct {
	Client   SQSAPI
	QueueURL string
	// QueueARN is each record's EventSourceARN.
	QueueARN string
	// BatchSize and Window are the mapping's batch size and maximum
	// batching window: a batch is handed over once it holds BatchSize
	// messages or Window has passed since its first.
	BatchSize int
	Window    time.Duration
	// Concurrency is how many batches are handled at once (the mapping's
	// maximum concurrency); at least 1.
	Concurrency int
	// Timeout is the handler's deadline (the function's timeout).
	Timeout time.Duration
	Log     *slog.Logger
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context, h Handler) error {
	if p.BatchSize < 1 || p.Timeout <= 0 || p.QueueURL == "" {
		return fmt.Errorf("sqspoll: BatchSize, Timeout and QueueURL are required")
	}
	var wg sync.WaitGroup
	for range max(1, p.Concurrency) {
		wg.Go(func() { p.work(ctx, h) })
	}
	wg.Wait()
	return nil
}

// work gathers and hands over batches, one at a time.
func (p *Poller) work(ctx context.Context, h Handler) {
	for ctx.Err() == nil {
		batch := p.gather(ctx)
		if len(batch) == 0 {
			continue
		}
		p.hand(ctx, h, batch)
	}
}

// gather receives a first message (waiting up to a second), then more
// until the batch is full or the window has passed.
func (p *Poller) gather(ctx context.Context) []sqstypes.Message {
	batch := p.receive(ctx, min(maxReceive, p.BatchSize), time.Second)
	if len(batch) == 0 {
		return nil
	}
	deadline := time.Now().Add(p.Window)
	for len(batch) < p.BatchSize && ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		batch = append(batch, p.receive(ctx, min(maxReceive, p.BatchSize-len(batch)), min(left, time.Second))...)
	}
	return batch
}

// receive is one ReceiveMessage; a failure is logged and answers none.
func (p *Poller) receive(ctx context.Context, n int, wait time.Duration) []sqstypes.Message {
	out, err := p.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(p.QueueURL), MaxNumberOfMessages: int32(n), WaitTimeSeconds: int32(max(0, wait/time.Second)),
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		if ctx.Err() == nil {
			p.Log.Warn("sqspoll: receive failed", "queue", p.QueueURL, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
		return nil
	}
	return out.Messages
}

// hand runs the handler on batch and deletes what it did not report failed.
func (p *Poller) hand(ctx context.Context, h Handler, batch []sqstypes.Message) {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, m := range batch {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		ev.Records[i] = events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: p.QueueARN}
	}
	hctx, cancel := context.WithTimeout(ctx, p.Timeout)
	resp, err := h(hctx, ev)
	cancel()
	if err != nil {
		p.Log.Warn("sqspoll: handler failed; the batch comes again after its visibility timeout", "messages", len(batch), "err", err)
		return
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var done []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range batch {
		if !failed[aws.ToString(m.MessageId)] {
			done = append(done, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	for start := 0; start < len(done); start += maxDelete {
		chunk := done[start:min(start+maxDelete, len(done))]
		out, err := p.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.QueueURL), Entries: chunk})
		if err == nil && len(out.Failed) > 0 {
			err = errors.New(aws.ToString(out.Failed[0].Message))
		}
		if err != nil && ctx.Err() == nil {
			p.Log.Warn("sqspoll: delete failed; those messages come again", "err", err)
		}
	}
}
