package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
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
		Description: jsii.String("Number Release (" + cfg.Stage + `): Zoom Server-to-Server OAuth app and webhook secret, JSON {"client_id","client_secret","webhook_secret_token"}`),
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

// newNotifyDLQ declares where the notify function's failed stream records go
// once their retries are exhausted, so no notification is dropped silently.
func newNotifyDLQ(scope constructs.Construct, cfg Config) awssqs.Queue {
	return newDeadLetterQueue(scope, "NotifyFailures", cfg)
}

// newDeadLetterQueue declares an on-failure destination of a stream event
// source: the records a function gave up on wait there for two weeks. Like
// the table, production keeps the queue (and what waits in it) when the
// stack or the queue is deleted; CloudFormation names it.
func newDeadLetterQueue(scope constructs.Construct, id string, cfg Config) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RemovalPolicy:   removalPolicy(cfg),
	})
}
