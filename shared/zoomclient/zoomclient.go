// Package zoomclient builds the Zoom client the Lambdas that call Zoom
// (release-tasks, release-batch) share: the Zoom app's credentials read
// from Secrets Manager on first use and cached, and every call paced by
// the rate limiter all of them share through the table (shared/ratelimit).
package zoomclient

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"numberrelease/shared/config"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/secrets"
	"numberrelease/shared/zoom"
)

// secretTTL is how long a warm function keeps the Zoom credentials before
// reading them again (so rotated credentials are picked up).
const secretTTL = 10 * time.Minute

// FromEnv builds the client from ZOOM_SECRET_ARN (members client_id and
// client_secret), ZOOM_API_BASE and ZOOM_OAUTH_URL, pacing its calls to
// budget (config.Release.Budget) with the limiter in table.
func FromEnv(awsCfg aws.Config, ddb *dynamodb.Client, table string, budget zoom.Limits, log *slog.Logger) (*zoom.Lazy, error) {
	vars, err := config.Require("ZOOM_SECRET_ARN", "ZOOM_API_BASE", "ZOOM_OAUTH_URL")
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: ddb, Table: table, Limits: budget})
	if err != nil {
		return nil, err
	}
	// Loaded on the first Zoom call, not at init, and cached.
	secret := &secrets.Cached{
		Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_SECRET_ARN"], TTL: secretTTL, Log: log,
	}
	return &zoom.Lazy{
		Config: zoom.Config{APIBase: vars["ZOOM_API_BASE"], OAuthURL: vars["ZOOM_OAUTH_URL"], Limiter: limiter},
		Credentials: func(ctx context.Context) (string, string, error) {
			m, err := secret.Get(ctx)
			if err != nil {
				return "", "", err
			}
			return m["client_id"], m["client_secret"], nil
		},
	}, nil
}
