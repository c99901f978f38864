// Command webhook is the Lambda behind API Gateway for POST /zoom/webhook
// (Zoom's notifications). It only wires; the logic lives in shared/zoomhook
// (verification, envelope), shared/release (acting on the hint: Hints) and
// shared/zoomauth (app_deauthorized ends a customer's authorization).
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/apigw"
	"numberrelease/shared/config"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/release"
	"numberrelease/shared/secrets"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoomauth"
	"numberrelease/shared/zoomhook"
)

// secretTTL is how long a warm function keeps the webhook secret token
// before reading it again (so a rotated token is picked up).
const secretTTL = 10 * time.Minute

// secretField is the member of the Zoom secret (JSON) that holds the
// webhook secret token.
const secretField = "webhook_secret_token"

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "ZOOM_WEBHOOK_SECRET_ARN")
		if err != nil {
			return nil, err
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		st := store.New(ddb, vars["TABLE_NAME"])
		// Only Recheck (SendTaskSuccess) is used here: no state machine ARN.
		wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg)}
		// Loaded on the first webhook, not at init, and cached.
		secret := &secrets.Cached{
			Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_WEBHOOK_SECRET_ARN"], TTL: secretTTL, Log: log,
		}
		// app_deauthorized ends the account's authorization (customer mode).
		ends := &zoomauth.Revocations{Grants: &zoomauth.Grants{DB: ddb, Table: vars["TABLE_NAME"]}, Log: log}
		h := zoomhook.New(zoomhook.Config{SecretFunc: secret.Bytes(secretField), Log: log, Deauthorizer: ends}, release.NewHints(st, wf, log))
		return apigw.Handler(h, jsonhttp.WithRequestID), nil
	})
}
