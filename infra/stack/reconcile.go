package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"
)

// reconcileEvery is how often the reconciler runs.
const reconcileEvery = 15

// newReconciler declares functions/reconcile (shared/reconcile) and its
// schedule: every reconcileEvery minutes it reads the InFlight index for
// numbers unchanged for ReconcileGraceSeconds, starts the execution of any
// whose workflow was never started (FAILED if that keeps failing for
// RetryBudgetSeconds), marks FAILED any whose execution ended without
// recording an outcome, and stops (and marks FAILED) any execution still
// running past its overall deadline (MaxWaitSeconds) plus the grace.
func (nr *NumberRelease) newReconciler(cfg Config, sm awsstepfunctions.StateMachine) awslambda.Function {
	fn := newGoFunction(nr.Stack, FunctionReconcile, cfg, functionOptions{
		timeout: awscdk.Duration_Minutes(jsii.Number(5)),
		env: map[string]*string{
			"TABLE_NAME":           nr.Table.TableName(),
			"STATE_MACHINE_ARN":    sm.StateMachineArn(),
			"GRACE_SECONDS":        nr.Parameters.ReconcileGraceSeconds.ValueAsString(),
			"MAX_WAIT_SECONDS":     nr.Parameters.MaxWaitSeconds.ValueAsString(),
			"RETRY_BUDGET_SECONDS": nr.Parameters.RetryBudgetSeconds.ValueAsString(),
		},
	})
	grantTable(fn, nr.Table, true)
	sm.GrantStartExecution(fn)
	sm.GrantExecution(fn, jsii.String("states:DescribeExecution"), jsii.String("states:StopExecution"))
	awsevents.NewRule(nr.Stack, jsii.String("ReconcileSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Number Release (" + cfg.Stage + "): run the reconciler"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(reconcileEvery))),
		// A missed run is made up by the next one.
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			RetryAttempts: jsii.Number(0),
		})},
	})
	return fn
}
