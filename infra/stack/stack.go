// Package stack is the AWS CDK definition of Number Release.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// NumberRelease is the deployed system and the resources it exposes.
type NumberRelease struct {
	awscdk.Stack
	Table        awsdynamodb.TableV2
	Functions    Functions
	StateMachine awsstepfunctions.StateMachine
	API          awsapigateway.RestApi
	Bus          awsevents.EventBus
	// Events is where the bus's events go: archive, event log, carriers.
	Events EventRouting
	// ZoomSecret holds {"client_id","client_secret","webhook_secret_token"};
	// operators put the real values after the first deployment.
	ZoomSecret awssecretsmanager.Secret
	// ZoomTokensKey seals the Zoom OAuth tokens customers grant (customer
	// mode's "Connect Zoom"), stored in the table.
	ZoomTokensKey awskms.Key
	// NotifyDLQ receives stream records the notify function gave up on.
	NotifyDLQ awssqs.Queue
	// StartReleaseDLQ receives approvals whose workflow start-release could
	// not start (the reconciler starts them anyway).
	StartReleaseDLQ awssqs.Queue
	// Releases is the queue the workflow hands numbers to release-batch on,
	// with its dead-letter queue.
	Releases Releases
	// Webhooks is the providers' webhook delivery (queue, DLQ, rule).
	Webhooks   Webhooks
	Parameters Parameters
	Monitoring Monitoring
	// FrontDoor serves the pages and the API on one origin (CloudFront).
	FrontDoor FrontDoor
	// SignIn is the stack's Cognito user pool (none with an external
	// issuer).
	SignIn SignIn
}

// New declares the Number Release stack. It fails, before adding anything to
// scope, when cfg does not validate (for example `make build` was not run).
func New(scope constructs.Construct, id string, cfg Config, props *awscdk.StackProps) (*NumberRelease, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st := awscdk.NewStack(scope, jsii.String(id), props)
	awscdk.Tags_Of(st).Add(jsii.String("project"), jsii.String("number-release"), nil)
	awscdk.Tags_Of(st).Add(jsii.String("stage"), jsii.String(cfg.Stage), nil)

	nr := &NumberRelease{Stack: st}
	nr.Parameters = newParameters(st, cfg)
	nr.Table = newTable(st, cfg)
	nr.ZoomSecret = newZoomSecret(st, cfg)
	nr.ZoomTokensKey = newZoomTokensKey(st, cfg)
	nr.Bus = newBus(st, cfg)
	nr.Events = routeEvents(st, cfg, nr.Bus)
	if err := nr.addFunctionsAndWorkflow(cfg); err != nil {
		return nil, err
	}
	nr.API = newAPI(st, cfg, nr.Functions)
	// The distribution first: the pool's invitation and its client's
	// redirect URIs name the front door's address.
	nr.FrontDoor = newFrontDoor(st, cfg, nr.API)
	nr.SignIn = newSignIn(st, cfg, nr.FrontDoor.AppURL)
	nr.SignIn.addClient(cfg, nr.FrontDoor.AppURL, nr.FrontDoor.PortalURL)
	if err := nr.FrontDoor.deployPages(st, cfg, nr.SignIn); err != nil {
		return nil, err
	}
	nr.addAPIAuthEnv(cfg)
	nr.addMonitoring(cfg)
	nr.addOutputs()
	nr.addNagSuppressions(cfg)
	return nr, nil
}

func (nr *NumberRelease) addOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(nr.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: value, Description: jsii.String(description),
		})
	}
	out("TableName", nr.Table.TableName(), "The DynamoDB table")
	out("AppUrl", nr.FrontDoor.AppURL, "The customer app (Zoom's redirect URL for \"Connect Zoom\"; a sign-in redirect URI)")
	out("PortalUrl", nr.FrontDoor.PortalURL, "The management portal (a sign-in redirect URI)")
	out("ApiUrl", nr.API.Url(), "Base URL of the REST API (append /provider/v1/..., /v1/..., /zoom/webhook); the front door serves the same paths")
	out("StateMachineArn", nr.StateMachine.StateMachineArn(), "The release workflow (Step Functions, Standard)")
	out("EventBusName", nr.Bus.EventBusName(), "EventBridge bus receiving number status changes")
	out("EventLogGroupName", nr.Events.Log.LogGroupName(), "Every event published on the bus (the catch-all rule), whether or not a carrier receives it")
	out("EventDeliveryDeadLetterQueueUrl", nr.Events.DeliveryDLQ.QueueUrl(), "Events the bus's rules could not deliver (event log, carriers' buses) after EventBridge's retries")
	out("ZoomSecretArn", nr.ZoomSecret.SecretArn(),
		`Zoom credentials. After deploying, store the real values: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string '{"client_id":"...","client_secret":"...","webhook_secret_token":"..."}'`)
	out("NotifyDeadLetterQueueUrl", nr.NotifyDLQ.QueueUrl(), "Table stream records the notify function could not publish")
	out("StartReleaseDeadLetterQueueUrl", nr.StartReleaseDLQ.QueueUrl(), "Approvals whose workflow start-release could not start (the reconciler starts them)")
	out("WebhookDeadLetterQueueUrl", nr.Webhooks.DLQ.QueueUrl(), "Webhook deliveries still failing after more than 24 hours of retries (redrive to the WebhookQueueUrl queue once the receiver is fixed)")
	out("WebhookQueueUrl", nr.Webhooks.Queue.QueueUrl(), "The webhook delivery queue (deliver-webhooks)")
	out("ReleaseDeadLetterQueueUrl", nr.Releases.DLQ.QueueUrl(), "Release messages release-batch failed 5 times (their executions send the numbers again)")
	out("AlarmTopicArn", nr.Monitoring.Topic.TopicArn(), "SNS topic of every alarm (subscribe on-call here; -c alarmEmail=... adds an email subscription)")
	out("DashboardName", nr.Monitoring.Dashboard.DashboardName(), "CloudWatch dashboard of the alarms and their metrics")
	if d := nr.FrontDoor.Distribution; d != nil {
		out("DistributionDomainName", d.DistributionDomainName(), "The distribution's own name: point a custom domain's DNS record (CNAME or alias) here")
		out("DistributionId", d.DistributionId(), "The CloudFront distribution of the pages and the API")
	}
	if p := nr.SignIn.Pool; p != nil {
		out("UserPoolId", p.UserPoolId(), "The Cognito user pool: invite users with aws cognito-idp admin-create-user --user-pool-id <this id> (docs/DEPLOY.md)")
	}
}
