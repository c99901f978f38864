// Command reconcile is the scheduled Lambda that repairs numbers whose
// workflow is gone (shared/reconcile). It only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/env"
	"numberrelease/shared/reconcile"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	vars, err := env.Require("TABLE_NAME", "STATE_MACHINE_ARN", "GRACE_SECONDS")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	grace, err := env.Seconds(vars, "GRACE_SECONDS")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws configuration", "err", err)
		os.Exit(1)
	}
	sf := sfn.NewFromConfig(awsCfg)
	r := &reconcile.Reconciler{
		Store:           store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"]),
		Executions:      sf,
		Starter:         &workflow.StepFunctions{Client: sf, StateMachineARN: vars["STATE_MACHINE_ARN"]},
		StateMachineARN: vars["STATE_MACHINE_ARN"],
		Grace:           grace,
		Log:             log,
	}
	lambda.Start(r.Run)
}
