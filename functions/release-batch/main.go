// Command release-batch is the Lambda behind the release queue (an SQS
// event source mapping): it releases the numbers the release workflow's
// Release states handed over, together, and answers each execution's task
// token (tasks.Consumer, tasks.ReleaseBatch).
//
// Environment: TABLE_NAME, RELEASE_QUEUE_URL (its own queue: a number held
// back for the next batch is made visible again there), ZOOM_SECRET_ARN,
// ZOOM_API_BASE, ZOOM_OAUTH_URL;
// optional RELEASE_MODE, CARRIER_CODE, ZOOM_CARRIER_ACCOUNT_ID, ZOOM_RATE_LIMITS and
// ZOOM_RATE_SHARE as release-tasks reads them.
// It only wires.
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/store"
	"numberrelease/shared/tasks"
	"numberrelease/shared/zoomclient"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "RELEASE_QUEUE_URL")
		if err != nil {
			return nil, err
		}
		rel, err := config.ReadRelease(os.Getenv)
		if err != nil {
			return nil, err
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		zc, err := zoomclient.FromEnv(awsCfg, ddb, vars["TABLE_NAME"], rel.Mode, rel.Budget(), log)
		if err != nil {
			return nil, err
		}
		log.Info("release-batch configured", "release_mode", rel.Mode, "carrier_code", rel.CarrierCode, "zoom_budget", rel.Budget().String())
		cfg := tasks.Config{Mode: rel.Mode, CarrierCode: rel.CarrierCode, CarrierAccountID: rel.CarrierAccountID}
		c := &tasks.Consumer{
			Releaser: tasks.New(store.New(ddb, vars["TABLE_NAME"]), zc, nil, cfg, log),
			Tokens:   sfn.NewFromConfig(awsCfg),
			Queue:    sqs.NewFromConfig(awsCfg),
			QueueURL: vars["RELEASE_QUEUE_URL"],
			Log:      log,
		}
		return c.HandleSQS, nil
	})
}
