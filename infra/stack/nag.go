package stack

import (
	"strings"

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
		{rule: "AwsSolutions-COG4", reason: "No Cognito authorizer on purpose: the api function verifies every bearer token itself " +
			"(shared/auth: signature against the stack's Cognito user pool's JWKS, exact iss, token_use access, client_id, exp, and the cognito:groups " +
			"that scope the caller; or the stage's external issuer's tokens), so authentication is the same with either issuer, locally and on " +
			"the emulator, which runs no authorizers. Zoom's webhook has no user at all: it verifies Zoom's HMAC signature (see APIG4)."},
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
	policy := defaultPolicy
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
	nr.addFrontDoorSuppressions(cfg, suppress)

	if cfg.WorkflowLogLevel != "ALL" {
		suppress(nr.StateMachine, nagSuppression{rule: "AwsSolutions-SF1", reason: "The stage logs workflow events at " + cfg.WorkflowLogLevel +
			" (workflowLogLevel in cdk.json): every transition of every execution is already in Step Functions' execution history " +
			"(GetExecutionHistory, kept 90 days after the execution ends), and each number's history item records every status change. " +
			"Set workflowLogLevel to ALL to log each transition too."})
	}
}

// defaultPolicy is the policy the CDK's grants on role go to.
func defaultPolicy(role awsiam.IRole) constructs.IConstruct {
	return role.Node().FindChild(jsii.String("DefaultPolicy"))
}

// deploymentFunctionPrefix begins the construct id of the CDK's function
// that copies the pages (a singleton per memory size, a child of the stack).
const deploymentFunctionPrefix = "Custom::CDKBucketDeployment"

// addFrontDoorSuppressions records the accepted findings of the front door
// and the user pool.
func (nr *NumberRelease) addFrontDoorSuppressions(cfg Config, suppress func(constructs.IConstruct, ...nagSuppression)) {
	if pool := nr.SignIn.Pool; pool != nil {
		suppress(pool, nagSuppression{rule: "AwsSolutions-COG8", reason: "The pool is on the ESSENTIALS plan, not PLUS (threat protection: " +
			"risk-based adaptive authentication, compromised-credential checks), which is billed per monthly active user on top. " +
			"Every user is invited by an operator (no self sign-up), must use a TOTP authenticator app at every sign-in (MFA required, " +
			"no SMS), has a 12-character password of all four character classes, and the client hides whether a user exists. " +
			"Move the pool to PLUS and set threat protection to ENFORCED where policy asks for it."})
	}
	fd := nr.FrontDoor
	if fd.Distribution == nil {
		return
	}
	dist := []nagSuppression{
		{rule: "AwsSolutions-CFR1", reason: "No geo restriction: the customers' admins and the carriers' operators may sign in from any country, " +
			"and every page and API call needs a signed-in user (the API verifies each token) or, for Zoom's webhook, Zoom's signature."},
		{rule: "AwsSolutions-CFR2", reason: "No WAF web ACL by default, as for the REST API (APIG3): a web ACL costs a fixed monthly fee, " +
			"the pages are static files, and the API behind the distribution keeps its own stage throttling and per-tenant budget and " +
			"authenticates every route. Associate a web ACL (us-east-1, CLOUDFRONT scope) where policy requires one (docs/DEPLOY.md)."},
	}
	if cfg.DomainName == "" {
		dist = append(dist, nagSuppression{rule: "AwsSolutions-CFR4", reason: "The stage has no custom domain, so the distribution answers " +
			"with CloudFront's default *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1 whatever the template " +
			"says (browsers still negotiate TLS 1.2 or 1.3). Setting domainName and certificateArn (us-east-1) in cdk.json gives the " +
			"distribution the TLSv1.2_2021 policy and clears this finding."})
	}
	suppress(fd.Distribution, dist...)

	// The CDK's function that copies the pages: its runtime is the CDK's
	// choice, and its grants are the CDK's (BucketDeployment), on the
	// stack's role (no AWS managed policy, only its own log group).
	for _, c := range *nr.Stack.Node().Children() {
		if strings.HasPrefix(*c.Node().Id(), deploymentFunctionPrefix) {
			suppress(c, nagSuppression{rule: "AwsSolutions-L1", reason: "This is the CDK's own BucketDeployment function (Python, with the " +
				"AWS CLI layer), which copies the pages into their bucket during a deploy and never serves a request. Its runtime is the one " +
				"the CDK release pins (aws-cdk-lib in go.mod) and moves forward when the CDK is upgraded; it cannot be chosen here."})
		}
	}
	if fd.DeploymentRole != nil {
		suppress(defaultPolicy(fd.DeploymentRole), nagSuppression{rule: "AwsSolutions-IAM5",
			appliesTo: []string{"Action::s3:GetBucket*", "Action::s3:GetObject*", "Action::s3:List*", "Action::s3:Abort*", "Action::s3:DeleteObject*"},
			reason: "The CDK's BucketDeployment grants these to the function that copies the pages: read of the deployment's source " +
				"assets (s3:GetObject*, GetBucket*, List*) and read-write of the pages bucket (adding DeleteObject* and Abort*, so it can " +
				"remove pages the repository no longer has and abort failed uploads). Each is limited to those two buckets (below); the " +
				"role is the stack's, used by this function only."})
		suppress(defaultPolicy(fd.DeploymentRole), nagSuppression{rule: "AwsSolutions-IAM5",
			appliesToRegex: `/^Resource::(<Pages[0-9A-F]{8}\.Arn>|arn:.+:s3:::cdk-[a-z0-9]+-assets-.+)\/\*$/g`,
			reason: "Objects of exactly two buckets: the pages bucket (the function writes web/ and prunes what is gone) and the CDK " +
				"bootstrap's asset bucket, from which it reads the zipped pages and config.json of this deploy (the CDK puts every " +
				"asset there under a content hash, so the object names are not known when the stack is written)."})
	}
}
