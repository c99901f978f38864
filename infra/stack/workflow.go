package stack

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/workflow"
)

// newStateMachine declares the release workflow from the one definition in
// shared/workflow (the emulator tests render the same file). The function
// ARN and the release queue's URL are CDK tokens inside the JSON string;
// CloudFormation fills them in. The caller grants the state machine the
// right to invoke tasks and to send to the queue.
func newStateMachine(st awscdk.Stack, cfg Config, tasks awslambda.IFunction, releases awssqs.IQueue) (awsstepfunctions.StateMachine, error) {
	def, err := workflow.Render(workflow.DefaultParams(*tasks.FunctionArn(), *releases.QueueUrl()))
	if err != nil {
		return nil, fmt.Errorf("release state machine: %w", err)
	}
	// CloudFormation names the log group (NumberRelease-<stage>-ReleaseWorkflowLogs…):
	// a fixed name on a log group that production keeps after the stack is
	// deleted would make re-creating the stack fail with "already exists".
	// The cost: Step Functions adds a log group outside /aws/vendedlogs/ to
	// the account's CloudWatch Logs resource policy for log delivery, which
	// is limited to 5120 characters (Step Functions developer guide,
	// "Avoiding Amazon CloudWatch Logs resource policy size restrictions",
	// https://docs.aws.amazon.com/step-functions/latest/dg/bp-cwl.html); one
	// log group per stack takes about 100 of them (docs/DEPLOY.md).
	logs := newLogGroup(st, "ReleaseWorkflowLogs", nil, cfg)
	return awsstepfunctions.NewStateMachine(st, jsii.String("ReleaseWorkflow"), &awsstepfunctions.StateMachineProps{
		Comment:          jsii.String("Number Release (" + cfg.Stage + "): check Zoom, wait for the unassign, release"),
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromString(jsii.String(def)),
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		TracingEnabled:   jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination: logs,
			Level:       awsstepfunctions.LogLevel(cfg.WorkflowLogLevel),
			// Inputs and outputs carry task tokens and customer data.
			IncludeExecutionData: jsii.Bool(false),
		},
	}), nil
}
