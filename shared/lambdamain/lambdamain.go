// Package lambdamain is what every function's main does around its wiring:
// JSON logs on stdout, the AWS SDK's default configuration (credentials and
// region from the Lambda environment), then the function's own setup; a
// setup that fails is logged and ends the process, so Lambda reports an init
// error instead of serving a half-configured handler.
package lambdamain

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Setup builds a function's handler (anything lambda.Start accepts) from its
// logger and AWS configuration, or says what is misconfigured.
type Setup func(log *slog.Logger, awsCfg aws.Config) (any, error)

// Run builds the handler with setup and starts it; it does not return.
func Run(setup Setup) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	handler, err := build(log, setup)
	if err != nil {
		log.Error("configuration", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}

func build(log *slog.Logger, setup Setup) (any, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	return setup(log, awsCfg)
}
