// Command release-tasks is the Lambda the release state machine
// (shared/workflow/release.asl.json) invokes for each of its states. It
// only wires; the logic lives in shared/tasks (the actions), shared/zoom
// (the Zoom Phone API) and shared/ratelimit (pacing within Zoom's
// per-second limits, shared by all concurrent invocations through the
// table) and shared/slots (the cap on how many invocations work with Zoom
// at once, a lease semaphore in the same table); shared/config reads the
// environment. It starts the successor execution of a long wait (the
// ContinueAsNew state) through Step Functions.
//
// Required environment: TABLE_NAME, ZOOM_SECRET_ARN, ZOOM_API_BASE,
// ZOOM_OAUTH_URL, RECHECK_SECONDS, MAX_WAIT_SECONDS,
// RELEASE_TASKS_CONCURRENCY (1–1000: the most invocations doing Zoom work
// at once; the stage's releaseTasksConcurrency). Optional:
// RELEASE_MODE (customer | carrier; default customer), CARRIER_CODE (the
// carrier's Provider Exchange code; required in carrier mode, 0 or empty
// otherwise), ZOOM_CARRIER_ACCOUNT_ID (the carrier's own Zoom account, the
// account of the Server-to-Server OAuth app in ZOOM_SECRET_ARN; required in
// carrier mode, where every Zoom call uses a token of this account),
// ZOOM_RATE_LIMITS (pro | business | light=N,medium=N,heavy=N; default pro:
// the customers' Zoom accounts' plan), ZOOM_RATE_SHARE (the per cent of
// those limits the service uses; default 50), RETRY_BUDGET_SECONDS (how long
// transient trouble is retried before FAILED; default 900) and
// RETRY_PAUSE_SECONDS (the longest pause between rounds; default 60).
package main

import (
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/config"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/pacing"
	"numberrelease/shared/slots"
	"numberrelease/shared/store"
	"numberrelease/shared/tasks"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoomclient"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "ZOOM_SECRET_ARN", "ZOOM_API_BASE", "ZOOM_OAUTH_URL", "RECHECK_SECONDS", "MAX_WAIT_SECONDS",
			"RELEASE_TASKS_CONCURRENCY")
		if err != nil {
			return nil, err
		}
		concurrency, err := config.Concurrency(vars, "RELEASE_TASKS_CONCURRENCY")
		if err != nil {
			return nil, err
		}
		recheck, err := config.Seconds(vars, "RECHECK_SECONDS")
		if err != nil {
			return nil, err
		}
		maxWait, err := config.Seconds(vars, "MAX_WAIT_SECONDS")
		if err != nil {
			return nil, err
		}
		rel, err := config.ReadRelease(os.Getenv)
		if err != nil {
			return nil, err
		}
		budget, err := config.OptionalSeconds(os.Getenv, "RETRY_BUDGET_SECONDS")
		if err != nil {
			return nil, err
		}
		pause, err := config.OptionalSeconds(os.Getenv, "RETRY_PAUSE_SECONDS")
		if err != nil {
			return nil, err
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		sem, err := slots.New(slots.Config{Client: ddb, Table: vars["TABLE_NAME"], Name: tasks.SlotsName, Size: concurrency,
			Lease: config.ReleaseTasksSlotLease})
		if err != nil {
			return nil, err
		}
		queue, err := pacing.New(pacing.Config{Client: ddb, Table: vars["TABLE_NAME"], Interval: pacing.Interval(rel.Budget())})
		if err != nil {
			return nil, err
		}
		cfg := tasks.Config{Recheck: recheck, MaxWait: maxWait, Mode: rel.Mode, CarrierCode: rel.CarrierCode,
			CarrierAccountID: rel.CarrierAccountID, RetryBudget: budget, RetryPause: pause, Slots: sem, Queue: queue}
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
		zc, err := zoomclient.FromEnv(awsCfg, ddb, vars["TABLE_NAME"], rel.Mode, rel.Budget(), log)
		if err != nil {
			return nil, err
		}
		log.Info("release-tasks configured", "release_mode", rel.Mode, "carrier_code", rel.CarrierCode,
			"carrier_account_id", rel.CarrierAccountID, "zoom_rate_limits", rel.Limits.String(), "zoom_rate_share", rel.Share,
			"zoom_budget", rel.Budget().String(), "concurrency", concurrency)
		// The ContinueAsNew state names its own state machine in its payload,
		// so the function needs no STATE_MACHINE_ARN (the state machine
		// already refers to the function).
		successors := &workflow.Successors{Client: sfn.NewFromConfig(awsCfg)}
		return tasks.New(store.New(ddb, vars["TABLE_NAME"]), zc, successors, cfg, log).Handle, nil
	})
}
