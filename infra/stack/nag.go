package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddNagChecks runs cdk-nag's AwsSolutions rules on everything under scope
// when it is synthesized: each finding becomes an error or warning
// annotation (printed by `make synth` and the CDK CLI, which refuses to
// deploy with errors), unless the resource carries a suppression with its
// reason (addNagSuppressions).
func AddNagChecks(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// nagSuppression is one accepted finding: the rule, why it does not apply
// or is accepted, and (for IAM rules) exactly which finding of the resource.
type nagSuppression struct {
	rule, reason string
	appliesTo    []string
	// appliesToRegex matches findings by regular expression (cdk-nag's
	// "/.../g" form), for resources whose text holds a token.
	appliesToRegex string
}

// xrayReason explains the "*" resource of every function role: the X-Ray
// actions the CDK grants for active tracing accept no other.
const xrayReason = `The only "*" resource is X-Ray's (xray:PutTraceSegments, xray:PutTelemetryRecords, added by the CDK for active tracing): X-Ray supports no resource-level permissions. TestWildcardResourcesAreXRayAndLogDeliveryOnly keeps every other grant on named resources.`

// addNagSuppressions records, on the resources concerned, each AwsSolutions
// finding the design accepts, with its reason. TestNagSuppressionsAreReviewed
// lists them all, so a new one cannot slip in unreviewed.
func (nr *NumberRelease) addNagSuppressions(cfg Config) {
	// Each suppression goes on one resource (never its children), so it
	// cannot cover anything added later.
	suppress := func(c constructs.IConstruct, list ...nagSuppression) {
		var out []*cdknag.NagPackSuppression
		for _, s := range list {
			sup := &cdknag.NagPackSuppression{Id: jsii.String(s.rule), Reason: jsii.String(s.reason)}
			var applies []any
			for _, a := range s.appliesTo {
				applies = append(applies, a)
			}
			if s.appliesToRegex != "" {
				applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String(s.appliesToRegex)})
			}
			if len(applies) > 0 {
				sup.AppliesTo = &applies
			}
			out = append(out, sup)
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &out, jsii.Bool(false))
	}

	suppress(nr.ZoomSecret, nagSuppression{rule: "AwsSolutions-SMG4", reason: "The secret holds credentials Zoom issues (the Zoom app's client id and secret: the OAuth app customers authorize in customer mode, " +
		"the carrier's Server-to-Server OAuth app in carrier mode; the webhook secret token): " +
		"they can only be regenerated in Zoom's App Marketplace, so a Secrets Manager rotation function has nothing to rotate. " +
		"Operators rotate them by hand (docs/OPERATIONS.md, Rotating the Zoom credentials); the functions re-read the secret within 10 minutes."})
	suppress(nr.NotifyDLQ, nagSuppression{rule: "AwsSolutions-SQS3", reason: "This queue is itself a dead-letter destination: the notify function's stream event source sends the records it gave up on here " +
		"(OnFailure), which cdk-nag does not recognise as DLQ use. Its depth has an alarm (notify-dead-letters)."})
	suppress(nr.StartReleaseDLQ, nagSuppression{rule: "AwsSolutions-SQS3", reason: "This queue is itself a dead-letter destination: the start-release function's stream event source sends the approvals it could not start here " +
		"(OnFailure), which cdk-nag does not recognise as DLQ use. Its depth has an alarm (start-release-dead-letters)."})

	suppress(nr.Events.DeliveryDLQ, nagSuppression{rule: "AwsSolutions-SQS3", reason: "This queue is itself a dead-letter destination: the event bus's rules (the event log, carriers' buses) " +
		"send the events they could not deliver here (each target's DeadLetterConfig), which cdk-nag does not recognise as DLQ use. Its depth has an alarm (event-delivery-dead-letters)."})

	api := nr.API
	suppress(api, nagSuppression{rule: "AwsSolutions-APIG2", reason: "Every route is a Lambda proxy whose handler validates strictly (shared/httpapi: strict JSON, unknown fields refused, " +
		"E.164 numbers, sizes) and answers RFC 9457 problems described in the OpenAPI document. An API Gateway request validator would answer " +
		"some bad requests with its own undocumented body instead, and would need models duplicating the OpenAPI schemas."})
	methodAuth := []nagSuppression{
		{rule: "AwsSolutions-APIG4", reason: "Authorization is in the handlers, not in API Gateway: the API function verifies the bearer JWT " +
			"(RS256/ES256 against the issuer's JWKS, exact iss, aud, exp; role and tenant claims) on every /v1 and /provider/v1 route, " +
			"and the webhook verifies Zoom's HMAC signature and timestamp. This keeps auth identical locally, on LocalStack (which runs no " +
			"authorizers) and on AWS; unauthenticated requests get 401 from the handler."},
		{rule: "AwsSolutions-COG4", reason: "Callers are carriers' systems and customers' admins with tokens from an external OpenID issuer " +
			"(JwtIssuer/JwksUrl parameters), and Zoom (signed webhook): there is no Cognito user pool to authorize against. The handlers verify the tokens (see APIG4)."},
	}
	for _, m := range *api.Methods() {
		suppress(m, methodAuth...)
	}
	suppress(api.DeploymentStage(), nagSuppression{rule: "AwsSolutions-APIG3", reason: "No WAF web ACL by default: it costs a fixed monthly fee per stage, and the API's exposure is bounded by " +
		"stage throttling (apiRateLimit/apiBurstLimit in cdk.json), bodies over 1 MiB refused by the handlers, and authentication on every route. " +
		"Associate a regional web ACL with the stage where policy requires one (docs/OPERATIONS.md)."})
	if role := api.Node().TryFindChild(jsii.String("CloudWatchRole")); role != nil {
		suppress(role, nagSuppression{rule: "AwsSolutions-IAM4", reason: "This is API Gateway's account-level CloudWatch Logs role, which access and execution logging need; " +
			"AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it and is maintained by AWS as API Gateway's log delivery changes.",
			appliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}})
	}

	// The grants are all made by now, so each role's DefaultPolicy exists.
	policy := func(role awsiam.IRole) constructs.IConstruct {
		return role.Node().FindChild(jsii.String("DefaultPolicy"))
	}
	for _, name := range FunctionNames() {
		suppress(policy(nr.Functions.ByName()[name].Role()), nagSuppression{rule: "AwsSolutions-IAM5", reason: xrayReason, appliesTo: []string{"Resource::*"}})
	}
	suppress(policy(nr.StateMachine.Role()), nagSuppression{rule: "AwsSolutions-IAM5", appliesTo: []string{"Resource::*"},
		reason: `The only "*" resources are X-Ray's (tracing) and CloudWatch Logs' vended log delivery actions (logs:CreateLogDelivery, ` +
			`logs:PutResourcePolicy, ...), which the CDK adds for the workflow's logging: AWS requires "*" for both. ` +
			`Invoking Lambda is granted on the release-tasks function ARN only, sending to SQS on the release queue only.`})
	suppress(policy(nr.Functions.Reconcile.Role()), nagSuppression{rule: "AwsSolutions-IAM5",
		// Partition, region and account are tokens or literals, depending on
		// the stack's environment and feature flags.
		appliesToRegex: `/^Resource::arn:.+:states:.+:execution:.*ReleaseWorkflow.*:\*$/g`,
		reason: "The reconciler may describe the executions of the release workflow only (states:DescribeExecution on " +
			"execution:<this state machine>:*): execution names are per number and attempt, so they cannot be listed in advance."})
	if cfg.WorkflowLogLevel != "ALL" {
		suppress(nr.StateMachine, nagSuppression{rule: "AwsSolutions-SF1", reason: "The stage logs workflow events at " + cfg.WorkflowLogLevel +
			" (workflowLogLevel in cdk.json): every transition of every execution is already in Step Functions' execution history " +
			"(GetExecutionHistory, kept 90 days after the execution ends), and each number's history item records every status change. " +
			"Set workflowLogLevel to ALL to log each transition too."})
	}
}
