package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/notify"
	"numberrelease/shared/webhooks"
)

// Webhooks is the delivery of status changes to the providers' webhooks:
// a rule on the bus puts every status-change event on Queue, and
// deliver-webhooks delivers each to its provider's registered URL,
// retrying through the message's visibility timeout; DLQ receives what
// was still not delivered after webhookMaxReceiveCount attempts.
type Webhooks struct {
	Queue awssqs.Queue
	DLQ   awssqs.Queue
	Rule  awsevents.Rule
}

// webhookMaxReceiveCount is the delivery queue's maxReceiveCount: the
// attempts of the production schedule (webhooks.ProductionBackoff), whose
// waits add up to more than 24 hours.
var webhookMaxReceiveCount = webhooks.ProductionBackoff().MaxAttempts

// webhookSecretsPurpose is the encryption context's "purpose" of a sealed
// webhook signing secret (webhooks.Purpose): the grants require it.
const webhookSecretsPurpose = webhooks.Purpose

// webhookKeys are the partition keys of the registrations and delivery
// records (webhooks.KeyPrefix).
const webhookKeys = webhooks.KeyPrefix + "*"

// newWebhookDelivery declares the delivery queue, its dead-letter queue,
// the bus's rule that fills the queue, and deliver-webhooks with its event
// source mapping and grants.
//
// Why the bus and SQS: the notify function already turns every history
// item of the table's stream into one event on the bus, so a rule (no new
// stream reader) sees every status change; SQS gives each delivery its own
// retry clock (a failed message's visibility timeout is its backoff, up to
// 12 hours a wait) and a dead-letter queue, which a stream reader cannot
// (it retries a whole shard in order, and one slow receiver would hold up
// every other provider's deliveries).
func (nr *NumberRelease) newWebhookDelivery(cfg Config) awslambda.Function {
	st, table := nr.Stack, nr.Table
	dlq := newDeadLetterQueue(st, "WebhookDeliveryFailures", cfg)
	q := awssqs.NewQueue(st, jsii.String("WebhookQueue"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(webhooks.QueueVisibility.Seconds())),
		RetentionPeriod:   awscdk.Duration_Seconds(jsii.Number(webhooks.QueueRetention.Seconds())),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(float64(webhookMaxReceiveCount)),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// Every status change; deliver-webhooks drops those of providers
	// without a webhook. The target's queue policy lets this rule only
	// send (aws:SourceArn); what EventBridge cannot put on the queue after
	// its retries goes to the bus's delivery dead-letter queue.
	rule := awsevents.NewRule(st, jsii.String("WebhookRule"), &awsevents.RuleProps{
		Description:  jsii.String("Number Release: every status change to the webhook delivery queue (" + cfg.Stage + ")"),
		EventBus:     nr.Bus,
		EventPattern: &awsevents.EventPattern{Source: jsii.Strings(notify.Source), DetailType: jsii.Strings(notify.DetailType)},
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(q, &awseventstargets.SqsQueueProps{
			DeadLetterQueue: nr.Events.DeliveryDLQ,
		})},
	})
	nr.Webhooks = Webhooks{Queue: q, DLQ: dlq, Rule: rule}

	fn := newGoFunction(st, FunctionDeliverWebhooks, cfg, functionOptions{
		timeout: awscdk.Duration_Seconds(jsii.Number(webhooks.Timeout.Seconds())),
		env: map[string]*string{
			"TABLE_NAME":              table.TableName(),
			"WEBHOOK_QUEUE_URL":       q.QueueUrl(),
			"WEBHOOK_SECRETS_KEY_ARN": nr.ZoomTokensKey.KeyArn(),
		},
	})
	// The registration (GetItem) and the delivery records (PutItem), on
	// its own keys only ("WEBHOOK#<provider>").
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:GetItem", "dynamodb:PutItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{webhookKeys}},
		},
	}))
	// Opening the signing secret: Decrypt only, for webhook secrets only.
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: &[]*string{nr.ZoomTokensKey.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{zoomTokensContextKey: webhookSecretsPurpose},
		},
	}))
	// The event source grants what Lambda's poller does with the
	// function's role on this queue only (ReceiveMessage, DeleteMessage,
	// ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl); the
	// function itself calls ChangeMessageVisibility (the backoff).
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(webhooks.BatchSize),
		MaxConcurrency:          jsii.Number(webhookMaxConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	return fn
}

// webhookMaxConcurrency caps deliver-webhooks' concurrent invocations (a
// burst of changes never takes the account's concurrency from the API).
const webhookMaxConcurrency = 5

// grantWebhookSecrets lets the API seal and open signing secrets (PUT
// and the test delivery) and delete registrations.
func grantWebhookSecrets(fn awslambda.Function, nr *NumberRelease) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{nr.ZoomTokensKey.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{zoomTokensContextKey: webhookSecretsPurpose},
		},
	}))
	fn.AddEnvironment(jsii.String("WEBHOOK_SECRETS_KEY_ARN"), nr.ZoomTokensKey.KeyArn(), nil)
}
