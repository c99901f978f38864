// Command api is the Lambda behind API Gateway for the provider and customer
// API (shared/apispec/openapi.yaml). It only wires; the logic lives in
// shared/httpapi and shared/release.
package main

import (
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/apigw"
	"numberrelease/shared/auth"
	"numberrelease/shared/config"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/lambdamain"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

func main() {
	lambdamain.Run(func(log *slog.Logger, awsCfg aws.Config) (any, error) {
		vars, err := config.Require("TABLE_NAME", "STATE_MACHINE_ARN", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "TENANT_RATE_LIMIT", "TENANT_BURST")
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
		verifier, err := auth.NewVerifier(auth.Config{JWKSURL: vars["JWKS_URL"], Issuer: vars["JWT_ISSUER"], Audience: vars["JWT_AUDIENCE"]})
		if err != nil {
			return nil, fmt.Errorf("auth configuration: %w", err)
		}
		st := store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"])
		wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]}
		api := httpapi.New(release.New(st, wf, log), verifier, st, log, httpapi.WithTenantLimiter(tenants))
		return apigw.Handler(api, jsonhttp.WithRequestID), nil
	})
}
