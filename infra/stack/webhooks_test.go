package stack

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/webhooks"
)

// The webhook delivery queue: SQS-encrypted, TLS only, a visibility timeout
// six times deliver-webhooks' timeout, messages kept past the retries'
// span, and the dead-letter queue after the production schedule's
// attempts, whose waits add up to more than 24 hours.
func TestWebhookQueue(t *testing.T) {
	s := synthStack(t, prod)
	queue, dlq := s.logicalID(t, s.stack.Webhooks.Queue), s.logicalID(t, s.stack.Webhooks.DLQ)
	props := s.resources[queue]["Properties"].(map[string]any)
	fnTimeout := s.resources[s.functionID(t, FunctionDeliverWebhooks)]["Properties"].(map[string]any)["Timeout"]
	want := map[string]string{
		"SqsManagedSseEnabled":   `true`,
		"VisibilityTimeout":      fmt.Sprint(int(webhooks.QueueVisibility.Seconds())),
		"MessageRetentionPeriod": fmt.Sprint(int(webhooks.QueueRetention.Seconds())),
		"RedrivePolicy":          `{"deadLetterTargetArn":{"Fn::GetAtt":["` + dlq + `","Arn"]},"maxReceiveCount":13}`,
	}
	for k, v := range want {
		if got := jsonString(t, props[k]); got != v {
			t.Errorf("webhook queue %s = %s, want %s", k, got, v)
		}
	}
	if fnTimeout != webhooks.Timeout.Seconds() || props["VisibilityTimeout"].(float64) < 6*fnTimeout.(float64) {
		t.Errorf("visibility %v, deliver-webhooks timeout %v", props["VisibilityTimeout"], fnTimeout)
	}
	// The attempts the queue allows cover a day of retries, and the queue
	// keeps a message until the last one.
	b := webhooks.ProductionBackoff()
	b.MaxAttempts = webhookMaxReceiveCount
	if b.Span() < 24*time.Hour || b.Span() > webhooks.QueueRetention {
		t.Errorf("%d attempts span %s; want at least 24 h and within the retention %s", webhookMaxReceiveCount, b.Span(), webhooks.QueueRetention)
	}
	dlqRes := s.resources[dlq]
	if dlqRes["DeletionPolicy"] != "Retain" || jsonString(t, dlqRes["Properties"].(map[string]any)["MessageRetentionPeriod"]) != "1209600" {
		t.Errorf("webhook dead-letter queue %s: want kept, 14 days", jsonString(t, dlqRes))
	}
	for _, id := range []string{queue, dlq} {
		denied := false
		for _, p := range s.ofType("AWS::SQS::QueuePolicy") {
			if strings.Contains(jsonString(t, p["Queues"]), `"`+id+`"`) {
				denied = denied || strings.Contains(jsonString(t, p["PolicyDocument"]), `"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Deny"`)
			}
		}
		if !denied {
			t.Errorf("queue %s accepts requests without TLS", id)
		}
	}
}

// The bus's rule sends every status change to the queue (failures to the
// bus's delivery dead-letter queue), and only that rule may send to it.
func TestWebhookRule(t *testing.T) {
	s := synthStack(t, dev)
	queue, rule := s.logicalID(t, s.stack.Webhooks.Queue), s.logicalID(t, s.stack.Webhooks.Rule)
	props := s.resources[rule]["Properties"].(map[string]any)
	if got, want := jsonString(t, props["EventPattern"]), `{"detail-type":["Number Release Status Changed"],"source":["number-release"]}`; got != want {
		t.Errorf("pattern %s, want %s", got, want)
	}
	if refOf(props["EventBusName"]) != s.logicalID(t, s.stack.Bus) {
		t.Errorf("rule on %s, want the bus", jsonString(t, props["EventBusName"]))
	}
	targets := jsonString(t, props["Targets"])
	if !strings.Contains(targets, `"Arn":{"Fn::GetAtt":["`+queue+`","Arn"]}`) ||
		!strings.Contains(targets, `"DeadLetterConfig":{"Arn":{"Fn::GetAtt":["`+s.logicalID(t, s.stack.Events.DeliveryDLQ)+`","Arn"]}}`) {
		t.Errorf("targets %s: want the queue, failures to the delivery dead-letter queue", targets)
	}
	allowed := false
	for _, p := range s.ofType("AWS::SQS::QueuePolicy") {
		if !strings.Contains(jsonString(t, p["Queues"]), `"`+queue+`"`) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			if m["Effect"] != "Allow" {
				continue
			}
			if jsonString(t, m["Principal"]) != `{"Service":"events.amazonaws.com"}` ||
				jsonString(t, m["Condition"]) != `{"ArnEquals":{"aws:SourceArn":{"Fn::GetAtt":["`+rule+`","Arn"]}}}` {
				t.Errorf("queue policy allows %s", jsonString(t, m))
			}
			allowed = true
		}
	}
	if !allowed {
		t.Error("the rule may not send to the queue")
	}
}

// deliver-webhooks reads its queue through one event source mapping with
// per-message failures, and may do exactly this: read and write its own
// table items (WEBHOOK#*), decrypt webhook secrets, and what the event
// source needs on its queue.
func TestDeliverWebhooksConsumerAndGrants(t *testing.T) {
	s := synthStack(t, dev)
	queueArn := `{"Fn::GetAtt":["` + s.logicalID(t, s.stack.Webhooks.Queue) + `","Arn"]}`
	found := 0
	for id, props := range s.ofType("AWS::Lambda::EventSourceMapping") {
		if jsonString(t, props["EventSourceArn"]) != queueArn {
			continue
		}
		found++
		for k, v := range map[string]string{
			"FunctionName":          `{"Ref":"` + s.functionID(t, FunctionDeliverWebhooks) + `"}`,
			"BatchSize":             fmt.Sprint(webhooks.BatchSize),
			"ScalingConfig":         fmt.Sprintf(`{"MaximumConcurrency":%d}`, webhookMaxConcurrency),
			"FunctionResponseTypes": `["ReportBatchItemFailures"]`,
		} {
			if got := jsonString(t, props[k]); got != v {
				t.Errorf("%s: %s = %s, want %s", id, k, got, v)
			}
		}
	}
	if found != 1 {
		t.Errorf("%d event source mappings read the webhook queue, want 1", found)
	}

	role := s.logicalID(t, s.stack.Functions.DeliverWebhooks.Role())
	table := `{"Fn::GetAtt":["` + s.logicalID(t, s.stack.Table) + `","Arn"]}`
	var got []string
	for _, st := range s.policyStatements() {
		if !slices.Contains(st.roles, role) {
			continue
		}
		if len(st.roles) != 1 {
			t.Errorf("policy %s is shared by %v", st.policy, st.roles)
		}
		res := jsonString(t, st.raw["Resource"])
		actions := strings.Join(slices.Sorted(slices.Values(st.actions)), ",")
		switch {
		case strings.HasPrefix(actions, "dynamodb:"):
			if res != table || actions != "dynamodb:GetItem,dynamodb:PutItem" ||
				jsonString(t, st.raw["Condition"]) != `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["WEBHOOK#*"]}}` {
				t.Errorf("table grant %s on %s with %s", actions, res, jsonString(t, st.raw["Condition"]))
			}
		case strings.HasPrefix(actions, "sqs:"):
			if res != queueArn || actions != "sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:ReceiveMessage" {
				t.Errorf("queue grant %s on %s", actions, res)
			}
		case strings.HasPrefix(actions, "kms:"):
			// TestZoomTokensKeyGrants
		case strings.HasPrefix(actions, "logs:"), strings.HasPrefix(actions, "xray:"):
		default:
			t.Errorf("deliver-webhooks may %s on %s", actions, res)
		}
		got = append(got, strings.SplitN(actions, ":", 2)[0])
	}
	for _, svc := range []string{"dynamodb", "sqs", "kms"} {
		if !slices.Contains(got, svc) {
			t.Errorf("deliver-webhooks has no %s grant", svc)
		}
	}
}
