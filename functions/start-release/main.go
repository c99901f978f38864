// Command start-release is the Lambda behind the table's DynamoDB stream
// (history inserts of approvals only, by the event source mapping's
// filter) that starts each approval's release workflow (shared/starter).
// It only wires.
package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/starter"
	"numberrelease/shared/workflow"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("STATE_MACHINE_ARN")
		if err != nil {
			return nil, err
		}
		s := &starter.Starter{
			Workflow: &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]},
			Log:      log,
		}
		return s.HandleStream, nil
	})
}
