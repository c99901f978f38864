// Command reconcile is the scheduled Lambda that repairs numbers whose
// workflow is gone (shared/reconcile). It only wires.
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/reconcile"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "STATE_MACHINE_ARN", "GRACE_SECONDS", "MAX_WAIT_SECONDS", "RETRY_BUDGET_SECONDS")
		if err != nil {
			return nil, err
		}
		var grace, maxWait, budget time.Duration
		for name, d := range map[string]*time.Duration{"GRACE_SECONDS": &grace, "MAX_WAIT_SECONDS": &maxWait, "RETRY_BUDGET_SECONDS": &budget} {
			if *d, err = config.Seconds(vars, name); err != nil {
				return nil, err
			}
		}
		wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]}
		r := &reconcile.Reconciler{
			Store:       store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"]),
			Executions:  wf,
			Starter:     wf,
			Grace:       grace,
			MaxWait:     maxWait,
			RetryBudget: budget,
			Log:         log,
		}
		return r.Run, nil
	})
}
