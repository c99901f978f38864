// Command release-tasks is the Lambda the release state machine invokes for
// each of its states (SPEC §4). It only wires; the logic lives in
// shared/tasks (the actions), shared/zoom (the Zoom Phone API) and
// shared/ratelimit (pacing within Zoom's per-second limits, shared by all
// concurrent invocations through the table).
//
// Required environment: TABLE_NAME, ZOOM_SECRET_ARN, ZOOM_API_BASE,
// ZOOM_OAUTH_URL, RECHECK_SECONDS, MAX_WAIT_SECONDS. Optional:
// RELEASE_MODE (customer | carrier; default customer), CARRIER_CODE (the
// carrier's Provider Exchange code; required in carrier mode, 0 or empty
// otherwise),
// ZOOM_RATE_LIMITS (pro | business | light=N,medium=N,heavy=N; default pro:
// the customers' Zoom accounts' plan).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"numberrelease/shared/env"
	"numberrelease/shared/ratelimit"
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
	mode, err := tasks.ParseReleaseMode(os.Getenv("RELEASE_MODE"))
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	carrierCode := 0
	if raw := strings.TrimSpace(os.Getenv("CARRIER_CODE")); raw != "" {
		if carrierCode, err = strconv.Atoi(raw); err != nil || carrierCode < 0 {
			log.Error("configuration", "err", fmt.Sprintf("CARRIER_CODE=%q is not a whole number (0 or empty: none)", raw))
			os.Exit(1)
		}
	}
	limits, err := zoom.ParseLimits(os.Getenv("ZOOM_RATE_LIMITS"))
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	cfg := tasks.Config{Recheck: recheck, MaxWait: maxWait, Mode: mode, CarrierCode: carrierCode}
	if err := cfg.Validate(); err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	ddb := dynamodb.NewFromConfig(awsCfg)
	st := store.New(ddb, vars["TABLE_NAME"])
	limiter, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: ddb, Table: vars["TABLE_NAME"], Limits: limits})
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	// Loaded on the first Zoom call, not at init, and cached.
	secret := &secrets.Cached{
		Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_SECRET_ARN"], TTL: secretTTL, Log: log,
	}
	zc := &zoom.Lazy{
		Config: zoom.Config{APIBase: vars["ZOOM_API_BASE"], OAuthURL: vars["ZOOM_OAUTH_URL"], Limiter: limiter},
		Credentials: func(ctx context.Context) (string, string, error) {
			m, err := secret.Get(ctx)
			if err != nil {
				return "", "", err
			}
			return m["client_id"], m["client_secret"], nil
		},
	}
	log.Info("release-tasks configured", "release_mode", mode, "carrier_code", carrierCode, "zoom_rate_limits", limits.String())
	t := tasks.New(st, zc, cfg, log)
	lambda.Start(t.Handle)
}
