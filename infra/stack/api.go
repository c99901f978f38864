package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/apispec"
)

// accessLogFormat is the stage's access log line: one JSON object per
// request, every value quoted (a "-" placeholder stays valid JSON). It names
// the route template, not the path, and no header or body: no bearer token
// or phone number reaches the access log. requestId matches the Lambda's
// request id header and logs (docs/OPERATIONS.md).
const accessLogFormat = `{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId",` +
	`"requestTime":"$context.requestTime","ip":"$context.identity.sourceIp","httpMethod":"$context.httpMethod",` +
	`"resourcePath":"$context.resourcePath","protocol":"$context.protocol","status":"$context.status",` +
	`"responseLength":"$context.responseLength","responseLatency":"$context.responseLatency",` +
	`"integrationStatus":"$context.integration.status","integrationLatency":"$context.integration.latency",` +
	`"integrationRequestId":"$context.integration.requestId","error":$context.error.messageString,` +
	`"xrayTraceId":"$context.xrayTraceId"}`

// webhookPath is Zoom's webhook resource.
const webhookPath = "/zoom/webhook"

// route is one API method served by one function (Lambda proxy integration).
type route struct {
	method, path string
	fn           awslambda.IFunction
}

// deployedRoutes are the OpenAPI document's deployed operations
// (apispec.Deployed): Zoom's webhook goes to the webhook function, every
// other one to the api function. A route added to the document is deployed
// with it.
func deployedRoutes(fns Functions) ([]route, error) {
	ops, err := apispec.Deployed()
	if err != nil {
		return nil, err
	}
	routes := make([]route, 0, len(ops))
	for _, op := range ops {
		fn := fns.API
		if op.Path == webhookPath {
			fn = fns.Webhook
		}
		routes = append(routes, route{method: op.Method, path: op.Path, fn: fn})
	}
	return routes, nil
}

// newAPI declares the REST API (API Gateway v1: the same resource runs on
// LocalStack's community edition) with exactly the deployed routes of the
// OpenAPI document (shared/apispec/openapi.yaml). The
// local-only routes (/local/..., /zoom-sim/...) belong to the local runner
// and are never deployed.
//
// There is deliberately no API Gateway authorizer: the handlers verify the
// bearer JWT themselves (shared/auth) and the webhook verifies Zoom's
// signature, so authentication is identical locally, on an emulator and on
// AWS.
func newAPI(st awscdk.Stack, cfg Config, fns Functions) awsapigateway.RestApi {
	accessLogs := newLogGroup(st, "ApiAccessLogs", nil, cfg)
	props := &awsapigateway.RestApiProps{
		RestApiName:   jsii.String("number-release-" + cfg.Stage),
		Description:   jsii.String("Number Release (" + cfg.Stage + "): provider, customer and Zoom webhook API"),
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// Access and execution logs need the account's (per region) API
		// Gateway CloudWatch Logs role. The stack sets it unless the stage
		// says the account's role is managed elsewhere (below).
		CloudWatchRole: jsii.Bool(cfg.APIGatewayCloudWatchRole),
		FailOnWarnings: jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(cfg.Stage),
			ThrottlingRateLimit:  jsii.Number(cfg.APIRateLimit),
			ThrottlingBurstLimit: jsii.Number(cfg.APIBurstLimit),
			TracingEnabled:       jsii.Bool(true),
			MetricsEnabled:       jsii.Bool(true),
			// Execution logs for failed requests only, and never bodies:
			// requests carry bearer tokens and customer data.
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			DataTraceEnabled:     jsii.Bool(false),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(accessLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
			// API Gateway keeps a token bucket per method of the stage: the
			// throttle above is each method's default. Zoom's webhook has
			// its own size (webhookRateLimit/webhookBurstLimit), and the
			// same logging and metrics, which a method's settings do not
			// inherit.
			MethodOptions: &map[string]*awsapigateway.MethodDeploymentOptions{
				webhookPath + "/POST": {
					ThrottlingRateLimit:  jsii.Number(cfg.WebhookRateLimit),
					ThrottlingBurstLimit: jsii.Number(cfg.WebhookBurstLimit),
					MetricsEnabled:       jsii.Bool(true),
					LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
					DataTraceEnabled:     jsii.Bool(false),
				},
			},
		},
	}
	if cfg.APIGatewayCloudWatchRole {
		// The role is an account-wide singleton other APIs may rely on:
		// deleting the stack keeps it.
		props.CloudWatchRoleRemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	api := awsapigateway.NewRestApi(st, jsii.String("RestApi"), props)
	// API Gateway would create the execution log group itself, without
	// retention, on the first logged request; declaring it first gives it
	// the stage's retention.
	execLogs := newLogGroup(st, "ApiExecutionLogs",
		awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("API-Gateway-Execution-Logs_"), api.RestApiId(), jsii.String("/" + cfg.Stage)}), cfg)
	api.DeploymentStage().Node().AddDependency(execLogs)
	routes, err := deployedRoutes(fns)
	if err != nil {
		panic(err) // the embedded document is broken: a build bug
	}
	integrations := map[awslambda.IFunction]awsapigateway.LambdaIntegration{}
	for _, r := range routes {
		integ, ok := integrations[r.fn]
		if !ok {
			integ = awsapigateway.NewLambdaIntegration(r.fn, &awsapigateway.LambdaIntegrationOptions{
				Proxy:           jsii.Bool(true),
				AllowTestInvoke: jsii.Bool(false),
			})
			integrations[r.fn] = integ
		}
		api.Root().ResourceForPath(jsii.String(r.path)).AddMethod(jsii.String(r.method), integ, nil)
	}
	// RestApi adds an "Endpoint" output of the same URL; the stack outputs
	// it once, as ApiUrl.
	api.Node().TryRemoveChild(jsii.String("Endpoint"))
	return api
}
