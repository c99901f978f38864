// Command expiry is the scheduled Lambda that expires release requests
// nobody acted on and reminds the customers before (shared/expiry). It
// only wires.
package main

import (
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"numberrelease/shared/config"
	"numberrelease/shared/expiry"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/mail"
	"numberrelease/shared/store"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "TTL_SECONDS", "EVENT_BUS_NAME")
		if err != nil {
			return nil, err
		}
		ttl, err := config.Seconds(vars, "TTL_SECONDS")
		if err != nil {
			return nil, err
		}
		reminders, err := expiry.ParseReminders("environment variable REMINDER_SECONDS", os.Getenv("REMINDER_SECONDS"))
		if err != nil {
			return nil, err
		}
		st := store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"])
		sw := &expiry.Sweeper{
			Store:     st,
			Backfill:  st,
			TTL:       ttl,
			Reminders: reminders,
			Events:    &expiry.Events{Client: eventbridge.NewFromConfig(awsCfg), Bus: vars["EVENT_BUS_NAME"]},
			Log:       log,
		}
		// No sender configured for the stage: the sweep runs without
		// emails and logs each one it did not send.
		if from := strings.TrimSpace(os.Getenv("SENDER_EMAIL")); from != "" {
			sw.Mailer = &mail.SES{Client: sesv2.NewFromConfig(awsCfg), From: from}
		}
		if err := sw.Check(); err != nil {
			return nil, err
		}
		return sw.Run, nil
	})
}
