package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Parameters are the deployment's CloudFormation parameters: values that
// belong to the environment, not to the code. None of them is a secret
// (secrets live in ZoomSecret). The token issuer is not one: it is the
// stack's own user pool or the stage's external issuer (cdk.json), and the
// customer app's URL (Zoom's redirect URL) is the front door's.
type Parameters struct {
	ZoomAPIBase, ZoomOAuthURL      awscdk.CfnParameter
	RecheckSeconds, MaxWaitSeconds awscdk.CfnParameter
	ReconcileGraceSeconds          awscdk.CfnParameter
	RetryBudgetSeconds             awscdk.CfnParameter
}

const urlPattern = `^https?://\S+$`

func newParameters(scope constructs.Construct, cfg Config) Parameters {
	str := func(id, description, def, pattern string) awscdk.CfnParameter {
		p := &awscdk.CfnParameterProps{
			Type:        jsii.String("String"),
			Description: jsii.String(description),
			MinLength:   jsii.Number(1),
		}
		if def != "" {
			p.Default = jsii.String(def)
		}
		if pattern != "" {
			p.AllowedPattern = jsii.String(pattern)
			p.ConstraintDescription = jsii.String("must be an http(s) URL")
		}
		return awscdk.NewCfnParameter(scope, jsii.String(id), p)
	}
	num := func(id, description string, def, min float64) awscdk.CfnParameter {
		return awscdk.NewCfnParameter(scope, jsii.String(id), &awscdk.CfnParameterProps{
			Type:        jsii.String("Number"),
			Description: jsii.String(description),
			Default:     jsii.Number(def),
			MinValue:    jsii.Number(min),
		})
	}
	return Parameters{
		ZoomAPIBase: str("ZoomApiBase",
			"Base URL of the Zoom REST API", "https://api.zoom.us/v2", urlPattern),
		ZoomOAuthURL: str("ZoomOAuthUrl",
			"Zoom OAuth token endpoint (customer mode: the OAuth app's authorization code and refresh grants; carrier mode: Server-to-Server OAuth, account credentials grant); the authorize and revoke endpoints are its siblings (.../oauth/authorize, .../oauth/revoke)", "https://zoom.us/oauth/token", urlPattern),
		RecheckSeconds: num("RecheckSeconds",
			"Seconds a release waits for the Zoom unassign notification before it re-checks Zoom by itself", 900, float64(cfg.RecheckSecondsMin)),
		MaxWaitSeconds: num("MaxWaitSeconds",
			"Seconds a release may wait for a number to be unassigned in Zoom before the number returns to PENDING_APPROVAL", 604800, 60),
		ReconcileGraceSeconds: num("ReconcileGraceSeconds",
			"Seconds a RELEASING or WAITING_FOR_UNASSIGN number may go unchanged before the reconciler checks that its workflow still runs", 1800, 300),
		RetryBudgetSeconds: num("RetryBudgetSeconds",
			"Seconds a release keeps retrying transient trouble (Zoom or DynamoDB unavailable, Lambda errors) before it is recorded FAILED; throttling is retried until MaxWaitSeconds", 900, 60),
	}
}
