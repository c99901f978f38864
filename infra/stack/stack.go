// Package stack is the AWS CDK definition of Number Release.
package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Config is what differs between deployments.
type Config struct {
	// Stage names the deployment (dev, prod).
	Stage string
	// Production keeps data on stack deletion and protects the table.
	Production bool
}

// NumberRelease is the deployed system and the resources it exposes.
type NumberRelease struct {
	awscdk.Stack
	Table awsdynamodb.TableV2
}

// New declares the Number Release stack.
func New(scope constructs.Construct, id string, cfg Config, props *awscdk.StackProps) *NumberRelease {
	st := awscdk.NewStack(scope, jsii.String(id), props)
	awscdk.Tags_Of(st).Add(jsii.String("project"), jsii.String("number-release"), nil)
	awscdk.Tags_Of(st).Add(jsii.String("stage"), jsii.String(cfg.Stage), nil)
	t := newTable(st, cfg)
	awscdk.NewCfnOutput(st, jsii.String("TableName"), &awscdk.CfnOutputProps{Value: t.TableName()})
	return &NumberRelease{Stack: st, Table: t}
}
