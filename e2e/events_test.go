package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"numberrelease/shared/harness/devstack"
)

// A provider's subscription (an EventBridge rule) sees every status change
// of its number, in the documented shape.
func TestProviderIsNotifiedOfEveryStatusChange(t *testing.T) {
	if stack == nil {
		t.Skip("subscribes on the emulator's event bus")
	}
	const n = "+14155550106"
	ctx := context.Background()
	q := sqs.NewFromConfig(stack.AWSConfig())
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("provider-pxc-events")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	pattern := fmt.Sprintf(`{"source":["number-release"],"detail-type":["Number Release Status Changed"],"detail":{"provider_id":["pxc"],"number":[%q]}}`, n)
	if _, err := stack.Events.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("pxc-" + strings.TrimPrefix(n, "+")), EventBusName: aws.String(devstack.EventBus), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := stack.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String("pxc-" + strings.TrimPrefix(n, "+")), EventBusName: aws.String(devstack.EventBus),
		Targets: []ebtypes.Target{{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"])}},
	}); err != nil {
		t.Fatal(err)
	}

	putZoomNumber(t, "zoom-acme", n, "")
	requestRelease(t, provider(t, "pxc"), "acme", n)
	acme := customer(t, "acme")
	approve(t, acme, n)
	acme.waitStatus(n, "RELEASED", settle())

	var got []string
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			var ev struct {
				Source     string `json:"source"`
				DetailType string `json:"detail-type"`
				Detail     struct {
					CustomerID string `json:"customer_id"`
					Number     string `json:"number"`
					ProviderID string `json:"provider_id"`
					From, To   string
					Actor, Why string
					Version    int
				} `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				t.Fatalf("event is not JSON: %s", aws.ToString(m.Body))
			}
			if ev.Detail.CustomerID != "acme" || ev.Detail.Number != n || ev.Detail.Actor == "" || ev.Detail.Why == "" || ev.Detail.Version == 0 {
				t.Fatalf("event detail = %+v", ev.Detail)
			}
			got = append(got, ev.Detail.From+"→"+ev.Detail.To)
		}
	}
	want := map[string]bool{"→PENDING_APPROVAL": true, "PENDING_APPROVAL→RELEASING": true, "RELEASING→RELEASED": true}
	if len(got) != 3 {
		t.Fatalf("events %v; want the 3 changes %v", got, want)
	}
	for _, g := range got {
		if !want[g] {
			t.Fatalf("unexpected event %s among %v", g, got)
		}
	}
}
