// Command notify is the Lambda behind the table's DynamoDB stream: it
// publishes every status change (history item) to EventBridge for providers
// (shared/notify). It only wires.
package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/notify"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("EVENT_BUS_NAME")
		if err != nil {
			return nil, err
		}
		publisher := &notify.Publisher{Client: eventbridge.NewFromConfig(awsCfg), BusName: vars["EVENT_BUS_NAME"], Log: log}
		return publisher.HandleStream, nil
	})
}
