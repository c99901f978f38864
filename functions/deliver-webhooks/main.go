// Command deliver-webhooks is the Lambda behind the webhook delivery queue
// (an SQS event source mapping with ReportBatchItemFailures): each message
// is a status change the event bus's rule put there, delivered, signed, to
// its provider's registered webhook (webhooks.Deliverer). A failed
// delivery is retried through the message's visibility timeout with
// exponential backoff (webhooks.ProductionBackoff) and, once the queue's
// maxReceiveCount is used up, goes to the dead-letter queue.
//
// Environment: TABLE_NAME, WEBHOOK_QUEUE_URL (its own queue: the retry's
// wait is set there), WEBHOOK_SECRETS_KEY_ARN (the KMS key the signing
// secrets are sealed with). It only wires.
package main

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/webhooks"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "WEBHOOK_QUEUE_URL", "WEBHOOK_SECRETS_KEY_ARN")
		if err != nil {
			return nil, err
		}
		// Production's policy: https, port 443, public addresses only.
		policy := webhooks.Policy{}
		d := &webhooks.Deliverer{
			Store:    &webhooks.Registrations{DB: dynamodb.NewFromConfig(awsCfg), Table: vars["TABLE_NAME"]},
			Box:      &webhooks.SecretBox{KMS: kms.NewFromConfig(awsCfg), KeyID: vars["WEBHOOK_SECRETS_KEY_ARN"]},
			Sender:   webhooks.NewSender(policy),
			Queue:    sqs.NewFromConfig(awsCfg),
			QueueURL: vars["WEBHOOK_QUEUE_URL"],
			Backoff:  webhooks.ProductionBackoff(),
			Log:      log,
		}
		return d.HandleSQS, nil
	})
}
