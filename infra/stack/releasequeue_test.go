package stack

import (
	"fmt"
	"strings"
	"testing"

	"numberrelease/shared/workflow"
)

// The release queue: encrypted by SQS, TLS only, a visibility timeout six
// times release-batch's timeout (so a batch in flight is not received
// again meanwhile, with room for Lambda's throttling retries), messages
// kept a day, and a dead-letter queue after 5 receives. Production keeps
// the dead-letter queue, not the queue (its messages can be answered only
// by this stack's executions).
func TestReleaseQueue(t *testing.T) {
	for _, tt := range []struct {
		cfg                  Config
		queuePolicy, dlqKept string
	}{
		{dev, "Delete", "Delete"},
		{prod, "Delete", "Retain"},
	} {
		t.Run(tt.cfg.Stage, func(t *testing.T) {
			s := synthStack(t, tt.cfg)
			queue, dlq := s.logicalID(t, s.stack.Releases.Queue), s.logicalID(t, s.stack.Releases.DLQ)
			props := s.resources[queue]["Properties"].(map[string]any)
			fnTimeout := s.resources[s.functionID(t, FunctionReleaseBatch)]["Properties"].(map[string]any)["Timeout"]
			want := map[string]string{
				"SqsManagedSseEnabled":   `true`,
				"VisibilityTimeout":      fmt.Sprint(workflow.ReleaseQueueVisibilitySeconds),
				"MessageRetentionPeriod": `86400`,
				"RedrivePolicy":          `{"deadLetterTargetArn":{"Fn::GetAtt":["` + dlq + `","Arn"]},"maxReceiveCount":5}`,
			}
			for k, v := range want {
				if got := jsonString(t, props[k]); got != v {
					t.Errorf("release queue %s = %s, want %s", k, got, v)
				}
			}
			if v, ok := props["VisibilityTimeout"].(float64); !ok || fnTimeout != float64(workflow.ReleaseBatchTimeoutSeconds) || v < 6*fnTimeout.(float64) {
				t.Errorf("visibility timeout %v, release-batch timeout %v: want the timeout %d s and the visibility at least six times it",
					props["VisibilityTimeout"], fnTimeout, workflow.ReleaseBatchTimeoutSeconds)
			}
			if _, named := props["QueueName"]; named {
				t.Errorf("release queue has the fixed name %v", props["QueueName"])
			}
			dlqProps := s.resources[dlq]["Properties"].(map[string]any)
			if jsonString(t, dlqProps["SqsManagedSseEnabled"]) != "true" || dlqProps["MessageRetentionPeriod"] != float64(14*24*3600) {
				t.Errorf("dead-letter queue %s: want SQS-managed encryption and 14 days", jsonString(t, dlqProps))
			}
			for id, policy := range map[string]string{queue: tt.queuePolicy, dlq: tt.dlqKept} {
				r := s.resources[id]
				if r["DeletionPolicy"] != policy || r["UpdateReplacePolicy"] != policy {
					t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v, want %s", id, r["DeletionPolicy"], r["UpdateReplacePolicy"], policy)
				}
			}
			// Both refuse requests without TLS.
			for _, id := range []string{queue, dlq} {
				denied := false
				for _, p := range s.ofType("AWS::SQS::QueuePolicy") {
					if !strings.Contains(jsonString(t, p["Queues"]), `"`+id+`"`) {
						continue
					}
					doc := jsonString(t, p["PolicyDocument"])
					denied = denied || strings.Contains(doc, `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`)
				}
				if !denied {
					t.Errorf("queue %s accepts requests without TLS", id)
				}
			}
		})
	}
}

// release-batch consumes the release queue through one event source
// mapping with the batching the local poller copies (workflow.ReleaseBatch*)
// and reports failed messages one by one; nothing else reads the queue.
func TestReleaseQueueConsumer(t *testing.T) {
	s := synthStack(t, dev)
	source := `{"Fn::GetAtt":["` + s.logicalID(t, s.stack.Releases.Queue) + `","Arn"]}`
	want := map[string]string{
		"FunctionName":                   `{"Ref":"` + s.functionID(t, FunctionReleaseBatch) + `"}`,
		"BatchSize":                      fmt.Sprint(workflow.ReleaseBatchSize),
		"MaximumBatchingWindowInSeconds": fmt.Sprint(workflow.ReleaseBatchWindowSeconds),
		"ScalingConfig":                  fmt.Sprintf(`{"MaximumConcurrency":%d}`, workflow.ReleaseBatchMaxConcurrency),
		"FunctionResponseTypes":          `["ReportBatchItemFailures"]`,
	}
	found := 0
	for id, props := range s.ofType("AWS::Lambda::EventSourceMapping") {
		if jsonString(t, props["EventSourceArn"]) != source {
			continue
		}
		found++
		for k, v := range want {
			if got := jsonString(t, props[k]); got != v {
				t.Errorf("%s: %s = %s, want %s", id, k, got, v)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d event source mappings read the release queue, want 1 (release-batch)", found)
	}
}
