package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/notify"
	"numberrelease/shared/workflow"
)

// zoomSecretPlaceholder is the Zoom secret's value when the stack creates
// it: the JSON members the functions read, all empty, and no credential.
// Operators put the real values with `aws secretsmanager put-secret-value`
// (the ZoomSecretArn output, docs/DEPLOY.md), and no later deploy touches
// them: CloudFormation writes SecretString again only when the template's
// value changes. So this string must NEVER change (not even its spacing or
// member order), and the secret must never go back to GenerateSecretString,
// whose settings, once changed, make CloudFormation generate a new value:
// either would overwrite the operators' Zoom credentials on the next deploy.
// Until the real values are there, release-tasks fails with Zoom
// BadCredentials ("no client ID and client secret") and the webhook answers
// 503, logging that "webhook_secret_token" is empty.
const zoomSecretPlaceholder = `{"client_id":"","client_secret":"","webhook_secret_token":""}`

// newZoomSecret declares the Zoom credentials secret with the placeholder.
func newZoomSecret(scope constructs.Construct, cfg Config) awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(scope, jsii.String("ZoomCredentials"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Number Release (" + cfg.Stage + `): Zoom app credentials and webhook secret token, JSON {"client_id","client_secret","webhook_secret_token"}. ` +
			`Customer mode: the Zoom OAuth app (user-managed, authorization code grant) the customers' admins authorize; carrier mode: the carrier's Server-to-Server OAuth app`),
		// Not a secret: the credential-free placeholder (see above).
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String(zoomSecretPlaceholder)),
		RemovalPolicy:     removalPolicy(cfg),
	})
}

// newBus declares the bus number status changes are published on.
func newBus(scope constructs.Construct, cfg Config) awsevents.EventBus {
	return awsevents.NewEventBus(scope, jsii.String("Bus"), &awsevents.EventBusProps{
		EventBusName: jsii.String("number-release-" + cfg.Stage),
		Description:  jsii.String("Number Release: number status changes (history entries)"),
	})
}

// EventRouting is where the bus's events go, so that none is published
// only to vanish: an archive keeps each for replay, a catch-all rule writes
// each to a log group operators read, and each configured carrier's events
// are forwarded to its own bus.
type EventRouting struct {
	Archive awsevents.Archive
	// Log receives every event (the catch-all rule).
	Log awslogs.LogGroup
	// DeliveryDLQ receives the events a rule could not deliver (to the log
	// group or a carrier's bus) once EventBridge's retries are exhausted.
	DeliveryDLQ awssqs.Queue
	// CarrierRole is what EventBridge assumes to put events on the
	// carriers' buses; nil without eventTargets.
	CarrierRole awsiam.Role
}

// routeEvents declares the bus's archive, catch-all rule and carrier rules
// (docs/DEPLOY.md, "Provider notifications").
func routeEvents(st awscdk.Stack, cfg Config, bus awsevents.EventBus) EventRouting {
	var r EventRouting
	r.Archive = awsevents.NewArchive(st, jsii.String("BusArchive"), &awsevents.ArchiveProps{
		SourceEventBus: bus,
		ArchiveName:    jsii.String("number-release-" + cfg.Stage),
		Description:    jsii.String("Number Release: every status change published, for replay"),
		EventPattern:   &awsevents.EventPattern{Source: jsii.Strings(notify.Source)},
		Retention:      awscdk.Duration_Days(jsii.Number(cfg.EventArchiveDays)),
	})
	r.DeliveryDLQ = newDeadLetterQueue(st, "EventDeliveryFailures", cfg)
	var rules []awsevents.CfnRule

	// The catch-all rule: every event, whoever it is for, into the event
	// log. EventBridge writes to a log group under the group's resource
	// policy (not a role).
	// EventBridge writes only to log groups under /aws/events/. The name
	// ends in the first part of the stack's id, so a prod group kept after
	// the stack is deleted never collides with the next stack's.
	stackGUID := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), st.StackId(), nil))
	r.Log = newLogGroup(st, "BusEventLog", awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("/aws/events/number-release-" + cfg.Stage + "-"),
		awscdk.Fn_Select(jsii.Number(0), awscdk.Fn_Split(jsii.String("-"), stackGUID, nil)),
	}), cfg)
	awslogs.NewResourcePolicy(st, jsii.String("BusEventLogPolicy"), &awslogs.ResourcePolicyProps{
		ResourcePolicyName: jsii.String("number-release-" + cfg.Stage + "-events"),
		PolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Principals: &[]awsiam.IPrincipal{
				awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
				awsiam.NewServicePrincipal(jsii.String("delivery.logs.amazonaws.com"), nil),
			},
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: &[]*string{r.Log.LogGroupArn()},
		})},
	})
	logTarget := st.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME, ResourceName: r.Log.LogGroupName(),
	})
	rules = append(rules, awsevents.NewCfnRule(st, jsii.String("BusEventLogRule"), &awsevents.CfnRuleProps{
		Description:  jsii.String("Number Release: every status change into the event log (" + cfg.Stage + ")"),
		EventBusName: bus.EventBusName(),
		EventPattern: notify.Pattern(),
		State:        jsii.String("ENABLED"),
		Targets: &[]any{&awsevents.CfnRule_TargetProperty{
			Id: jsii.String("event-log"), Arn: logTarget,
			DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: r.DeliveryDLQ.QueueArn()},
		}},
	}))

	// A rule per carrier: its events (provider_id) onto its bus. A bus in
	// another account is a target only with a role EventBridge assumes.
	if len(cfg.EventTargets) > 0 {
		r.CarrierRole = awsiam.NewRole(st, jsii.String("CarrierDeliveryRole"), &awsiam.RoleProps{
			Description: jsii.String("Number Release (" + cfg.Stage + "): EventBridge puts carriers' events on their buses"),
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), &awsiam.ServicePrincipalOpts{
				Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()}},
			}),
		})
		buses := make([]*string, len(cfg.EventTargets))
		for i, t := range cfg.EventTargets {
			buses[i] = jsii.String(t.BusARN)
		}
		r.CarrierRole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("events:PutEvents"),
			Resources: &buses,
		}))
		for _, t := range cfg.EventTargets {
			rules = append(rules, awsevents.NewCfnRule(st, jsii.String("CarrierEvents-"+t.ProviderID), &awsevents.CfnRuleProps{
				Description:  jsii.String("Number Release: provider " + t.ProviderID + "'s status changes to its bus in account " + t.Account()),
				EventBusName: bus.EventBusName(),
				EventPattern: notify.ProviderPattern(t.ProviderID),
				State:        jsii.String("ENABLED"),
				Targets: &[]any{&awsevents.CfnRule_TargetProperty{
					Id: jsii.String("carrier-bus"), Arn: jsii.String(t.BusARN), RoleArn: r.CarrierRole.RoleArn(),
					DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: r.DeliveryDLQ.QueueArn()},
				}},
			}))
		}
	}

	// The dead-letter queue takes what these rules could not deliver, and
	// nothing else.
	arns := make([]*string, len(rules))
	for i, rule := range rules {
		arns[i] = rule.AttrArn()
	}
	r.DeliveryDLQ.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{r.DeliveryDLQ.QueueArn()},
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": arns}},
	}))
	return r
}

// newNotifyDLQ declares where the notify function's failed stream records go
// once their retries are exhausted, so no notification is dropped silently.
func newNotifyDLQ(scope constructs.Construct, cfg Config) awssqs.Queue {
	return newDeadLetterQueue(scope, "NotifyFailures", cfg)
}

// Releases is the release queue, where the workflow's Release state hands
// each number, with its task token, to the release-batch function
// (sqs:sendMessage.waitForTaskToken), and its dead-letter queue.
type Releases struct {
	Queue awssqs.Queue
	// DLQ receives the messages release-batch failed
	// releaseQueueMaxReceiveCount times.
	DLQ awssqs.Queue
}

// releaseQueueMaxReceiveCount is how many times a release message is
// received before it moves to the dead-letter queue. Lambda's poller
// receives a message again when the function's batch failed, reported the
// message as a failure, or was throttled, so a small count would send
// messages of a busy account there.
const releaseQueueMaxReceiveCount = 5

// newReleaseQueue declares the release queue and its dead-letter queue.
// The visibility timeout is six times release-batch's timeout, as AWS
// advises for a queue behind an event source mapping; messages are kept a
// day, though each is useful only while its execution waits for it
// (workflow.DefaultReleaseTimeoutSeconds): after that the execution sends
// the number again. The queue itself is not kept when the stack is
// deleted (its messages can be answered only by this stack's executions);
// the dead-letter queue is, like the others.
func newReleaseQueue(scope constructs.Construct, cfg Config) Releases {
	dlq := newDeadLetterQueue(scope, "ReleaseQueueFailures", cfg)
	q := awssqs.NewQueue(scope, jsii.String("ReleaseQueue"), &awssqs.QueueProps{
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(workflow.ReleaseQueueVisibilitySeconds)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(1)),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{
			Queue:           dlq,
			MaxReceiveCount: jsii.Number(releaseQueueMaxReceiveCount),
		},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	return Releases{Queue: q, DLQ: dlq}
}

// newDeadLetterQueue declares a dead-letter queue: the on-failure
// destination of a stream event source, a rule's dead-letter target, or the
// release queue's redrive target. What was given up on waits there for two
// weeks. Like the table, production keeps the queue (and what waits in it)
// when the stack or the queue is deleted; CloudFormation names it.
func newDeadLetterQueue(scope constructs.Construct, id string, cfg Config) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RemovalPolicy:   removalPolicy(cfg),
	})
}
