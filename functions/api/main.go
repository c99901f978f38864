// Command api is the Lambda behind API Gateway for the provider, customer
// and operator API (shared/apispec/openapi.yaml). It only wires; the logic
// lives in shared/httpapi, shared/release, shared/customers (onboarding)
// and shared/zoomauth (Connect Zoom, built by shared/zoomclient from
// ZOOM_SECRET_ARN, ZOOM_API_BASE, ZOOM_OAUTH_URL, ZOOM_REDIRECT_URL and
// ZOOM_TOKENS_KEY_ARN), and shared/webhooks (the provider's webhook, its
// secret sealed with WEBHOOK_SECRETS_KEY_ARN).
package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/apigw"
	"numberrelease/shared/auth"
	"numberrelease/shared/config"
	"numberrelease/shared/customers"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
	"numberrelease/shared/webhooks"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoomclient"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "STATE_MACHINE_ARN", "TENANT_RATE_LIMIT", "TENANT_BURST", "WEBHOOK_SECRETS_KEY_ARN")
		if err != nil {
			return nil, err
		}
		rate, err := config.PositiveInt(vars, "TENANT_RATE_LIMIT")
		if err != nil {
			return nil, err
		}
		burst, err := config.PositiveInt(vars, "TENANT_BURST")
		if err != nil {
			return nil, err
		}
		tenants, err := httpapi.NewTenantLimiter(rate, burst)
		if err != nil {
			return nil, fmt.Errorf("tenant request budget: %w", err)
		}
		issuers, err := auth.ConfigsFromEnv(os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("auth configuration: %w", err)
		}
		verifier, err := auth.NewIssuers(issuers...)
		if err != nil {
			return nil, fmt.Errorf("auth configuration: %w", err)
		}
		ddb := dynamodb.NewFromConfig(awsCfg)
		st := store.New(ddb, vars["TABLE_NAME"])
		wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]}
		conns, err := zoomclient.Connections(awsCfg, ddb, vars["TABLE_NAME"], st, release.NewHints(st, wf, log), log)
		if err != nil {
			return nil, fmt.Errorf("connect zoom: %w", err)
		}
		// The provider's webhook, under production's URL policy (https,
		// port 443, public addresses); its secrets sealed with KMS.
		policy := webhooks.Policy{}
		hooks := &webhooks.Service{
			Store:  &webhooks.Registrations{DB: ddb, Table: vars["TABLE_NAME"]},
			Box:    &webhooks.SecretBox{KMS: kms.NewFromConfig(awsCfg), KeyID: vars["WEBHOOK_SECRETS_KEY_ARN"]},
			Policy: policy, Sender: webhooks.NewSender(policy), Log: log,
		}
		api := httpapi.New(release.New(st, wf, log), verifier, st, log, httpapi.WithTenantLimiter(tenants),
			httpapi.WithZoomConnections(conns), httpapi.WithCustomers(customers.New(st, log)), httpapi.WithWebhooks(hooks))
		return apigw.Handler(api, jsonhttp.WithRequestID), nil
	})
}
