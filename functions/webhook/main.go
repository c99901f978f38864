// Command webhook is the Lambda behind API Gateway for POST /zoom/webhook
// (SPEC §4 "Zoom side"). It only wires; the logic lives in shared/zoomhook
// (verification, envelope) and shared/release (acting on the hint).
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/apigw"
	"numberrelease/shared/env"
	"numberrelease/shared/release"
	"numberrelease/shared/secrets"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoomhook"
)

// secretTTL is how long a warm function keeps the webhook secret token
// before reading it again (so a rotated token is picked up).
const secretTTL = 10 * time.Minute

// secretField is the member of the Zoom secret (JSON) that holds the
// webhook secret token.
const secretField = "webhook_secret_token"

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	vars, err := env.Require("TABLE_NAME", "ZOOM_WEBHOOK_SECRET_ARN")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws configuration", "err", err)
		os.Exit(1)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"])
	// Only Recheck (SendTaskSuccess) is used here: no state machine ARN.
	wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg)}
	// Loaded on the first webhook, not at init, and cached.
	secret := &secrets.Cached{
		Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_WEBHOOK_SECRET_ARN"], TTL: secretTTL, Log: log,
	}
	h := zoomhook.New(zoomhook.Config{SecretFunc: secret.Bytes(secretField), Log: log}, release.New(st, wf, log))
	lambda.Start(apigw.Handler(h, zoomhook.WithRequestID))
}
