package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// route is one API method served by one function (Lambda proxy integration).
type route struct {
	method, path string
	fn           awslambda.IFunction
}

// newAPI declares the REST API (API Gateway v1: the same resource runs on
// LocalStack's community edition) with exactly the routes of SPEC §4. The
// local-only routes (/local/..., /zoom-sim/...) belong to the local runner
// and are never deployed.
//
// There is deliberately no API Gateway authorizer: the handlers verify the
// bearer JWT themselves (shared/auth) and the webhook verifies Zoom's
// signature, so authentication is identical locally, on an emulator and on
// AWS.
func newAPI(st awscdk.Stack, cfg Config, fns Functions) awsapigateway.RestApi {
	api := awsapigateway.NewRestApi(st, jsii.String("RestApi"), &awsapigateway.RestApiProps{
		RestApiName:   jsii.String("number-release-" + cfg.Stage),
		Description:   jsii.String("Number Release (" + cfg.Stage + "): provider, customer and Zoom webhook API"),
		EndpointTypes: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		// No account-wide CloudWatch role: nothing here needs API Gateway to
		// write logs, and that role is a per-account singleton.
		CloudWatchRole: jsii.Bool(false),
		FailOnWarnings: jsii.Bool(true),
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String(cfg.Stage),
			ThrottlingRateLimit:  jsii.Number(50),
			ThrottlingBurstLimit: jsii.Number(100),
			TracingEnabled:       jsii.Bool(true),
			MetricsEnabled:       jsii.Bool(true),
		},
	})
	routes := []route{
		{"POST", "/provider/v1/release-requests", fns.API},
		{"GET", "/provider/v1/customers/{customer_id}/numbers", fns.API},
		{"DELETE", "/provider/v1/customers/{customer_id}/numbers/{number}/release-request", fns.API},
		{"GET", "/v1/numbers", fns.API},
		{"POST", "/v1/numbers/release", fns.API},
		{"POST", "/v1/numbers/reject", fns.API},
		{"GET", "/v1/numbers/{number}", fns.API},
		{"POST", "/zoom/webhook", fns.Webhook},
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
