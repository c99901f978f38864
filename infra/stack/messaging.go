package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// newZoomSecret declares the Zoom credentials secret. No credential is in the
// code or the template: the stack creates the secret with empty client fields
// and a random webhook token (so no webhook verifies until it is set), and
// operators store the real JSON with `aws secretsmanager put-secret-value`
// (see the ZoomSecretArn output).
func newZoomSecret(scope constructs.Construct, cfg Config) awssecretsmanager.Secret {
	return awssecretsmanager.NewSecret(scope, jsii.String("ZoomCredentials"), &awssecretsmanager.SecretProps{
		Description: jsii.String("Number Release (" + cfg.Stage + `): Zoom Server-to-Server OAuth app and webhook secret, JSON {"client_id","client_secret","webhook_secret_token"}`),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(`{"client_id":"","client_secret":""}`),
			GenerateStringKey:    jsii.String("webhook_secret_token"),
			ExcludePunctuation:   jsii.Bool(true),
			PasswordLength:       jsii.Number(32),
		},
		RemovalPolicy: removalPolicy(cfg),
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
func newNotifyDLQ(scope constructs.Construct) awssqs.Queue {
	return newDeadLetterQueue(scope, "NotifyFailures")
}

// newDeadLetterQueue declares an on-failure destination of a stream event
// source: the records a function gave up on wait there for two weeks.
func newDeadLetterQueue(scope constructs.Construct, id string) awssqs.Queue {
	return awssqs.NewQueue(scope, jsii.String(id), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
}
