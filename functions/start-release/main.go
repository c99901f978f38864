// Command start-release is the Lambda behind the table's DynamoDB stream
// (history inserts of approvals only, by the event source mapping's
// filter) that starts each approval's release workflow (shared/starter),
// paced per customer (shared/pacing).
// It only wires.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/pacing"
	"numberrelease/shared/starter"
	"numberrelease/shared/workflow"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("STATE_MACHINE_ARN", "TABLE_NAME")
		if err != nil {
			return nil, err
		}
		budget, err := config.ZoomBudget(os.Getenv)
		if err != nil {
			return nil, err
		}
		pacer, err := pacing.New(pacing.Config{Client: dynamodb.NewFromConfig(awsCfg), Table: vars["TABLE_NAME"], Interval: pacing.Interval(budget)})
		if err != nil {
			return nil, err
		}
		s := &starter.Starter{
			Workflow: &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]},
			Pacer:    pacer,
			Log:      log,
		}
		return s.HandleStream, nil
	})
}
