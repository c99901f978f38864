package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"numberrelease/shared/harness/sqspoll"
	"numberrelease/shared/notify"
	"numberrelease/shared/webhooks"
)

// The webhook delivery queue and its dead-letter queue, as on AWS
// (infra/stack): the bus's rule puts every status change on the queue.
const (
	WebhookQueue    = "webhook-deliveries"
	WebhookDLQ      = "webhook-deliveries-dlq"
	webhookRuleName = "webhook-deliveries"
)

// LocalWebhookBackoff is the local retry schedule of webhook deliveries:
// seconds instead of production's minutes and hours
// (webhooks.ProductionBackoff), so the tests see retries quickly.
func LocalWebhookBackoff() webhooks.Backoff {
	return webhooks.Backoff{Base: time.Second, Cap: 4 * time.Second, MaxAttempts: 5}
}

// startWebhooks creates the delivery queue with its dead-letter queue, the
// bus's rule that fills it, and its consumer (the same webhooks.Deliverer
// as deliver-webhooks on AWS, fed by an SQS poller standing in for the
// event source mapping). It returns the provider API's use cases.
func (s *Stack) startWebhooks(ctx, bg context.Context, awsCfg aws.Config, cfg Config) (*webhooks.Service, error) {
	q := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	arn := func(name string) string { return "arn:aws:sqs:" + awsCfg.Region + ":" + account + ":" + name }
	if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(WebhookDLQ)}); err != nil {
		return nil, fmt.Errorf("create the webhook dead-letter queue: %w", err)
	}
	backoff := cfg.WebhookBackoff
	if backoff.MaxAttempts == 0 {
		backoff = LocalWebhookBackoff()
	}
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(WebhookQueue), Attributes: map[string]string{
		"VisibilityTimeout":      strconv.Itoa(int(webhooks.QueueVisibility.Seconds())),
		"MessageRetentionPeriod": strconv.Itoa(int(webhooks.QueueRetention.Seconds())),
		"RedrivePolicy":          `{"deadLetterTargetArn":"` + arn(WebhookDLQ) + `","maxReceiveCount":"` + strconv.Itoa(backoff.MaxAttempts) + `"}`,
	}})
	if err != nil {
		return nil, fmt.Errorf("create the webhook queue: %w", err)
	}
	url := aws.ToString(created.QueueUrl)
	s.webhookQueue.url, s.webhookQueue.client = url, q
	pattern, err := json.Marshal(notify.Pattern())
	if err != nil {
		return nil, fmt.Errorf("webhook rule pattern: %w", err)
	}
	if _, err := s.Events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(webhookRuleName), EventBusName: aws.String(EventBus), EventPattern: aws.String(string(pattern)),
	}); err != nil {
		return nil, fmt.Errorf("create the webhook rule: %w", err)
	}
	if _, err := s.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(webhookRuleName), EventBusName: aws.String(EventBus),
		Targets: []ebtypes.Target{{Id: aws.String("webhook-deliveries"), Arn: aws.String(arn(WebhookQueue))}},
	}); err != nil {
		return nil, fmt.Errorf("target the webhook queue: %w", err)
	}

	// Local mode: receivers on this machine (http://localhost,
	// http://127.0.0.1) are allowed; never set on AWS.
	// Nothing leaves this machine: names resolve only to loopback unless
	// the test gives a resolver, and every connection goes to loopback
	// (a public IP literal passes the URL check but is not dialed).
	resolver := cfg.WebhookResolver
	if resolver == nil {
		resolver = loopbackResolver{}
	}
	policy := webhooks.Policy{Local: !cfg.WebhooksProduction, Resolver: resolver, Dial: dialLoopback}
	store := &webhooks.Registrations{DB: s.ddb, Table: TableName}
	box := &webhooks.SecretBox{KMS: s.kms, KeyID: s.tokensKey}
	log := s.log.With("function", "deliver-webhooks")
	d := &webhooks.Deliverer{Store: store, Box: box, Sender: webhooks.NewSender(policy), Queue: q, QueueURL: url,
		Backoff: backoff, Log: log}
	poller := &sqspoll.Poller{Client: q, QueueURL: url, QueueARN: arn(WebhookQueue), BatchSize: webhooks.BatchSize,
		Concurrency: 2, Timeout: webhooks.Timeout, Log: log}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := poller.Run(bg, d.HandleSQS); err != nil {
			s.log.Error("webhook queue poller stopped", "err", err)
		}
	}()
	return &webhooks.Service{Store: store, Box: box, Policy: policy, Sender: webhooks.NewSender(policy), Log: s.log}, nil
}

// WebhookDeadLetters counts the messages in the webhook dead-letter queue.
func (s *Stack) WebhookDeadLetters(ctx context.Context) (int, error) {
	u, err := s.webhookQueue.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(WebhookDLQ)})
	if err != nil {
		return 0, fmt.Errorf("webhook dead-letter queue: %w", err)
	}
	out, err := s.webhookQueue.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"}})
	if err != nil {
		return 0, fmt.Errorf("webhook dead-letter queue: %w", err)
	}
	return strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
}

// loopbackResolver resolves localhost and nothing else: the local system
// looks no name up on the network.
type loopbackResolver struct{}

func (loopbackResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "localhost" {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return nil, fmt.Errorf("the local system resolves no host names but localhost (%s)", host)
}

// dialLoopback connects only to loopback addresses.
func dialLoopback(ctx context.Context, network, address string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		return nil, fmt.Errorf("the local system delivers webhooks on this machine only, not to %s", address)
	}
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, address)
}
