package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

// Every event is kept where an operator finds it, whoever it is for: the
// bus's catch-all rule writes it to the event log, and the archive holds it
// for replay (no carrier subscribes to this number).
func TestEveryEventIsLoggedAndArchived(t *testing.T) {
	if stack == nil {
		t.Skip("reads the emulator's event log and archive")
	}
	const n = "+14155550107"
	ctx := context.Background()
	putZoomNumber(t, "zoom-acme", n, "")
	requestRelease(t, provider(t, "pxc"), "acme", n)
	acme := customer(t, "acme")
	approve(t, acme, n)
	acme.waitStatus(n, "RELEASED", settle())

	want := map[string]bool{"→PENDING_APPROVAL": true, "PENDING_APPROVAL→RELEASING": true, "RELEASING→RELEASED": true}
	got := map[string]bool{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		for _, line := range eventLog(t) {
			var ev struct {
				Source string `json:"source"`
				Detail struct {
					Number   string `json:"number"`
					From, To string
				} `json:"detail"`
			}
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("event log line is not an event: %s", line)
			}
			if ev.Source == "number-release" && ev.Detail.Number == n {
				got[ev.Detail.From+"→"+ev.Detail.To] = true
			}
		}
		if len(got) < len(want) {
			time.Sleep(200 * time.Millisecond)
		}
	}
	for w := range want {
		if !got[w] {
			t.Errorf("the event log lacks %s of %s; it has %v", w, n, got)
		}
	}
	archive, err := stack.Events.DescribeArchive(ctx, &eventbridge.DescribeArchiveInput{ArchiveName: aws.String(devstack.EventArchive)})
	if err != nil {
		t.Fatalf("describe the archive: %v", err)
	}
	if archive.EventCount < int64(len(want)) {
		t.Errorf("the archive holds %d events, want at least this number's %d", archive.EventCount, len(want))
	}
}

// eventLog returns the messages of the local event log. It calls moto's
// CloudWatch Logs API itself: moto 5.2.5 writes the events EventBridge
// delivers with a fractional ingestionTime, which the SDK's client refuses
// to decode.
func eventLog(t *testing.T) []string {
	t.Helper()
	var lines []string
	var next string
	for {
		in := map[string]any{"logGroupName": devstack.EventLog}
		if next != "" {
			in["nextToken"] = next
		}
		body, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPost, aws.ToString(stack.AWSConfig().BaseEndpoint), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Logs_20140328.FilterLogEvents")
		// moto routes by the credential scope; it checks no signature.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/"+stack.AWSConfig().Region+"/logs/aws4_request, SignedHeaders=host, Signature=0")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("read the event log: %v", err)
		}
		var out struct {
			Events []struct {
				Message string `json:"message"`
			} `json:"events"`
			NextToken string `json:"nextToken"`
		}
		err = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("read the event log: %d %v", res.StatusCode, err)
		}
		for _, e := range out.Events {
			lines = append(lines, e.Message)
		}
		if out.NextToken == "" || out.NextToken == next {
			return lines
		}
		next = out.NextToken
	}
}
