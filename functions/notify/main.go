// Command notify is the Lambda behind the table's DynamoDB stream: it
// publishes every status change (history item) to EventBridge for providers
// (shared/notify). It only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"numberrelease/shared/env"
	"numberrelease/shared/notify"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	vars, err := env.Require("EVENT_BUS_NAME")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws configuration", "err", err)
		os.Exit(1)
	}
	publisher := &notify.Publisher{Client: eventbridge.NewFromConfig(awsCfg), BusName: vars["EVENT_BUS_NAME"], Log: log}
	lambda.Start(publisher.HandleStream)
}
