// Package stack is the AWS CDK definition of Number Release.
package stack

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// DefaultBuildDir is where `make build` writes the Lambda bundles
// (<dir>/<function>/bootstrap), relative to the working directory.
const DefaultBuildDir = "build"

// Config is what differs between deployments.
type Config struct {
	// Stage names the deployment (dev, prod): lower-case letters, digits, '-'.
	Stage string
	// Production keeps data on stack deletion, protects the table, keeps logs
	// longer and logs only workflow errors.
	Production bool
	// BuildDir holds the Lambda bundles, <BuildDir>/<function>/bootstrap;
	// empty means DefaultBuildDir. The app passes it resolved against the
	// repository root.
	BuildDir string
}

var stagePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

func (c Config) buildDir() string {
	if c.BuildDir == "" {
		return DefaultBuildDir
	}
	return c.BuildDir
}

// Validate reports what stops the stack from being synthesized: a bad stage
// name or missing Lambda bundles (every missing one is named).
func (c Config) Validate() error {
	var errs []error
	if !stagePattern.MatchString(c.Stage) {
		errs = append(errs, fmt.Errorf("stage %q: want lower-case letters, digits and '-' (dev, prod)", c.Stage))
	}
	if err := checkBundles(c.buildDir()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// NumberRelease is the deployed system and the resources it exposes.
type NumberRelease struct {
	awscdk.Stack
	Table        awsdynamodb.TableV2
	Functions    Functions
	StateMachine awsstepfunctions.StateMachine
	API          awsapigateway.RestApi
	Bus          awsevents.EventBus
	// ZoomSecret holds {"client_id","client_secret","webhook_secret_token"};
	// operators put the real values after the first deployment.
	ZoomSecret awssecretsmanager.Secret
	// NotifyDLQ receives stream records the notify function gave up on.
	NotifyDLQ  awssqs.Queue
	Parameters Parameters
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
	nr.Parameters = newParameters(st)
	nr.Table = newTable(st, cfg)
	nr.ZoomSecret = newZoomSecret(st, cfg)
	nr.Bus = newBus(st, cfg)
	if err := nr.addFunctionsAndWorkflow(cfg); err != nil {
		return nil, err
	}
	nr.API = newAPI(st, cfg, nr.Functions)
	nr.addOutputs()
	return nr, nil
}

func (nr *NumberRelease) addOutputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(nr.Stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value: value, Description: jsii.String(description),
		})
	}
	out("TableName", nr.Table.TableName(), "The DynamoDB table")
	out("ApiUrl", nr.API.Url(), "Base URL of the REST API (append /provider/v1/..., /v1/..., /zoom/webhook)")
	out("StateMachineArn", nr.StateMachine.StateMachineArn(), "The release workflow (Step Functions, Standard)")
	out("EventBusName", nr.Bus.EventBusName(), "EventBridge bus receiving number status changes")
	out("ZoomSecretArn", nr.ZoomSecret.SecretArn(),
		`Zoom credentials. After deploying, store the real values: aws secretsmanager put-secret-value --secret-id <this ARN> --secret-string '{"client_id":"...","client_secret":"...","webhook_secret_token":"..."}'`)
	out("NotifyDeadLetterQueueUrl", nr.NotifyDLQ.QueueUrl(), "Table stream records the notify function could not publish")
}
