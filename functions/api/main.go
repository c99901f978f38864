// Command api is the Lambda behind API Gateway for the provider and customer
// API (SPEC §4). It only wires; the logic lives in shared/.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"numberrelease/shared/apigw"
	"numberrelease/shared/auth"
	"numberrelease/shared/env"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	vars, err := env.Require("TABLE_NAME", "STATE_MACHINE_ARN", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws configuration", "err", err)
		os.Exit(1)
	}
	verifier, err := auth.NewVerifier(auth.Config{JWKSURL: vars["JWKS_URL"], Issuer: vars["JWT_ISSUER"], Audience: vars["JWT_AUDIENCE"]})
	if err != nil {
		log.Error("auth configuration", "err", err)
		os.Exit(1)
	}
	st := store.New(dynamodb.NewFromConfig(awsCfg), vars["TABLE_NAME"])
	wf := &workflow.StepFunctions{Client: sfn.NewFromConfig(awsCfg), StateMachineARN: vars["STATE_MACHINE_ARN"]}
	api := httpapi.New(release.New(st, wf, log), verifier, st, log)
	lambda.Start(apigw.Handler(api, httpapi.WithRequestID))
}
