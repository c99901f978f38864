// Command release-tasks is the Lambda the release state machine invokes for
// each of its states (SPEC §4). It only wires; the logic lives in
// shared/tasks (the actions) and shared/zoom (the Zoom Phone API).
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

	"numberrelease/shared/env"
	"numberrelease/shared/secrets"
	"numberrelease/shared/store"
	"numberrelease/shared/tasks"
	"numberrelease/shared/zoom"
)

// secretTTL is how long a warm function keeps the Zoom credentials before
// reading them again (so rotated credentials are picked up).
const secretTTL = 10 * time.Minute

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	vars, err := env.Require("TABLE_NAME", "ZOOM_SECRET_ARN", "ZOOM_API_BASE", "ZOOM_OAUTH_URL", "RECHECK_SECONDS", "MAX_WAIT_SECONDS")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	recheck, err := env.Seconds(vars, "RECHECK_SECONDS")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	maxWait, err := env.Seconds(vars, "MAX_WAIT_SECONDS")
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
	// Loaded on the first Zoom call, not at init, and cached.
	secret := &secrets.Cached{
		Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_SECRET_ARN"], TTL: secretTTL, Log: log,
	}
	zc := &zoom.Lazy{
		Config: zoom.Config{APIBase: vars["ZOOM_API_BASE"], OAuthURL: vars["ZOOM_OAUTH_URL"]},
		Credentials: func(ctx context.Context) (string, string, error) {
			m, err := secret.Get(ctx)
			if err != nil {
				return "", "", err
			}
			return m["client_id"], m["client_secret"], nil
		},
	}
	t := tasks.New(st, zc, tasks.Config{Recheck: recheck, MaxWait: maxWait}, log)
	lambda.Start(t.Handle)
}
