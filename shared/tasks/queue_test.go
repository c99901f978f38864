package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// fakeReleaser answers each number from results ("" or an error name).
type fakeReleaser struct {
	results map[string]string
	batches [][]string
}

func (f *fakeReleaser) ReleaseBatch(_ context.Context, ins []Input, _ []bool) []error {
	var names []string
	out := make([]error, len(ins))
	for i, in := range ins {
		names = append(names, in.Number)
		if r := f.results[in.Number]; r != "" {
			out[i] = messages.InvokeResponse_Error{Type: r, Message: "because " + in.Number}
		}
	}
	f.batches = append(f.batches, names)
	return out
}

// fakeTokens records answers; fail makes a token's answer fail with err.
type fakeTokens struct {
	answers []string // "token:ok" or "token:Error:Cause"
	fail    map[string]error
}

func (f *fakeTokens) SendTaskSuccess(_ context.Context, in *sfn.SendTaskSuccessInput, _ ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error) {
	if err := f.fail[*in.TaskToken]; err != nil {
		return nil, err
	}
	f.answers = append(f.answers, *in.TaskToken+":ok")
	return &sfn.SendTaskSuccessOutput{}, nil
}

func (f *fakeTokens) SendTaskFailure(_ context.Context, in *sfn.SendTaskFailureInput, _ ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error) {
	if err := f.fail[*in.TaskToken]; err != nil {
		return nil, err
	}
	f.answers = append(f.answers, *in.TaskToken+":"+*in.Error+":"+*in.Cause)
	return &sfn.SendTaskFailureOutput{}, nil
}

func msg(id, number string, attempt int, token string) events.SQSMessage {
	b, _ := json.Marshal(Input{Action: "release", CustomerID: "acme", Number: number, Attempt: attempt, ZoomID: "pn" + number, TaskToken: token})
	return events.SQSMessage{MessageId: id, Body: string(b)}
}

func TestHandleSQS(t *testing.T) {
	tests := []struct {
		name        string
		records     []events.SQSMessage
		results     map[string]string
		fail        map[string]error
		wantBatches [][]string
		wantAnswers []string
		wantRetry   []string // message ids reported failed
	}{
		{
			name:        "each token gets its number's result",
			records:     []events.SQSMessage{msg("m1", "+1", 1, "t1"), msg("m2", "+2", 1, "t2"), msg("m3", "+3", 1, "t3")},
			results:     map[string]string{"+2": ErrZoomAssigned},
			wantBatches: [][]string{{"+1", "+2", "+3"}},
			wantAnswers: []string{"t1:ok", "t2:Zoom.Assigned:because +2", "t3:ok"},
		},
		{
			name:        "a release sent twice is released once and both tokens answered",
			records:     []events.SQSMessage{msg("m1", "+1", 1, "old"), msg("m2", "+1", 1, "new")},
			wantBatches: [][]string{{"+1"}},
			wantAnswers: []string{"new:ok", "old:ok"},
		},
		{
			name: "an unreadable message is dropped; one with a token is told why",
			records: []events.SQSMessage{{MessageId: "m1", Body: "not json"}, msg("m2", "", 1, "t2"),
				msg("m3", "+3", 1, "t3")},
			wantBatches: [][]string{{"+3"}},
			wantAnswers: []string{"t2:Release.Misconfigured:release message without number", "t3:ok"},
		},
		{
			name:        "a token no longer awaited needs no second delivery",
			records:     []events.SQSMessage{msg("m1", "+1", 1, "t1")},
			fail:        map[string]error{"t1": &sfntypes.TaskTimedOut{Message: new("timed out")}},
			wantBatches: [][]string{{"+1"}},
		},
		{
			name:        "an answer Step Functions did not take comes again",
			records:     []events.SQSMessage{msg("m1", "+1", 1, "t1"), msg("m2", "+2", 1, "t2")},
			fail:        map[string]error{"t2": errors.New("ThrottlingException")},
			wantBatches: [][]string{{"+1", "+2"}},
			wantAnswers: []string{"t1:ok"},
			wantRetry:   []string{"m2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeReleaser{results: tt.results}
			tok := &fakeTokens{fail: tt.fail}
			c := &Consumer{Releaser: r, Tokens: tok, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			resp, err := c.HandleSQS(context.Background(), events.SQSEvent{Records: tt.records})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(r.batches) != fmt.Sprint(tt.wantBatches) {
				t.Errorf("batches %v, want %v", r.batches, tt.wantBatches)
			}
			sort.Strings(tok.answers)
			if !slices.Equal(tok.answers, tt.wantAnswers) {
				t.Errorf("answers %q, want %q", tok.answers, tt.wantAnswers)
			}
			var retry []string
			for _, f := range resp.BatchItemFailures {
				retry = append(retry, f.ItemIdentifier)
			}
			if !slices.Equal(retry, tt.wantRetry) {
				t.Errorf("redelivered %v, want %v", retry, tt.wantRetry)
			}
		})
	}
}

// holdingReleaser holds back every number it may.
type holdingReleaser struct{ holdable [][]bool }

func (h *holdingReleaser) ReleaseBatch(_ context.Context, ins []Input, holdable []bool) []error {
	h.holdable = append(h.holdable, holdable)
	out := make([]error, len(ins))
	for i := range ins {
		if holdable[i] {
			out[i] = ErrHeld
		}
	}
	return out
}

type fakeVisibility struct{ changed []string }

func (f *fakeVisibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.changed = append(f.changed, fmt.Sprintf("%s %ds", *in.ReceiptHandle, in.VisibilityTimeout))
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// TestHeldBackComesAgainSoon: a message may be held back maxHolds times; a
// held one is not answered, comes again after HoldSeconds, and is reported
// failed so that it is not deleted; one held enough is released at once.
func TestHeldBackComesAgainSoon(t *testing.T) {
	first, again := msg("m1", "+1", 1, "t1"), msg("m2", "+2", 1, "t2")
	first.ReceiptHandle, first.Attributes = "r1", map[string]string{"ApproximateReceiveCount": "1"}
	again.ReceiptHandle, again.Attributes = "r2", map[string]string{"ApproximateReceiveCount": "3"}
	r, tok, vis := &holdingReleaser{}, &fakeTokens{}, &fakeVisibility{}
	c := &Consumer{Releaser: r, Tokens: tok, Queue: vis, QueueURL: "q", Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	resp, err := c.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{first, again}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.holdable) != "[[true false]]" {
		t.Errorf("holdable %v, want [[true false]]", r.holdable)
	}
	if fmt.Sprint(vis.changed) != fmt.Sprintf("[r1 %ds]", HoldSeconds) || fmt.Sprint(tok.answers) != "[t2:ok]" {
		t.Errorf("visibility changed %v, answers %v; want r1 held, t2 answered", vis.changed, tok.answers)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Errorf("reported failed %v, want m1", resp.BatchItemFailures)
	}
}
