// Package zoomclient builds, from the Lambdas' environment, what the
// functions that talk to Zoom share: the Zoom client of release-tasks and
// release-batch (every call paced by the rate limiter all of them share
// through the table, shared/ratelimit), and the Connect Zoom use cases of
// the api function. The Zoom app's credentials are read from Secrets
// Manager on first use and cached.
//
// In carrier mode every call uses a server-to-server token of the
// carrier's own account (account_credentials). In customer mode every call
// uses the customer's own authorization (package zoomauth): its tokens
// are kept in the table, sealed with the KMS key ZOOM_TOKENS_KEY_ARN.
package zoomclient

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"numberrelease/shared/config"
	"numberrelease/shared/domain"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/secrets"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomauth"
)

// secretTTL is how long a warm function keeps the Zoom credentials before
// reading them again (so rotated credentials are picked up).
const secretTTL = 10 * time.Minute

// app reads the Zoom app's credentials (ZOOM_SECRET_ARN: client_id,
// client_secret) on first use.
type app struct {
	secret           *secrets.Cached
	oauthURL, apiURL string
}

func newApp(awsCfg aws.Config, vars map[string]string, log *slog.Logger) *app {
	return &app{
		secret: &secrets.Cached{
			Client: secretsmanager.NewFromConfig(awsCfg), SecretID: vars["ZOOM_SECRET_ARN"], TTL: secretTTL, Log: log,
		},
		oauthURL: vars["ZOOM_OAUTH_URL"], apiURL: vars["ZOOM_API_BASE"],
	}
}

func (a *app) credentials(ctx context.Context) (string, string, error) {
	m, err := a.secret.Get(ctx)
	if err != nil {
		return "", "", err
	}
	return m["client_id"], m["client_secret"], nil
}

// get is the OAuth app with its credentials.
func (a *app) get(ctx context.Context) (*zoom.App, error) {
	id, secret, err := a.credentials(ctx)
	if err != nil {
		return nil, &zoom.Error{Kind: zoom.Unavailable, Message: "load the Zoom app's credentials: " + err.Error()}
	}
	return &zoom.App{OAuthURL: a.oauthURL, APIBase: a.apiURL, ClientID: id, ClientSecret: secret}, nil
}

// FromEnv builds the client from ZOOM_SECRET_ARN, ZOOM_API_BASE and
// ZOOM_OAUTH_URL (and, in customer mode, ZOOM_TOKENS_KEY_ARN), pacing its
// calls to budget (config.Release.Budget) with the limiter in table.
func FromEnv(awsCfg aws.Config, ddb *dynamodb.Client, table string, mode domain.ReleaseMode, budget zoom.Limits, log *slog.Logger) (*zoom.Lazy, error) {
	vars, err := config.Require("ZOOM_SECRET_ARN", "ZOOM_API_BASE", "ZOOM_OAUTH_URL")
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: ddb, Table: table, Limits: budget})
	if err != nil {
		return nil, err
	}
	a := newApp(awsCfg, vars, log)
	lazy := &zoom.Lazy{Config: zoom.Config{APIBase: vars["ZOOM_API_BASE"], OAuthURL: vars["ZOOM_OAUTH_URL"], Limiter: limiter}}
	if mode == domain.ModeCarrier {
		// Loaded on the first Zoom call, not at init, and cached.
		lazy.Credentials = a.credentials
		return lazy, nil
	}
	keyVars, err := config.Require("ZOOM_TOKENS_KEY_ARN")
	if err != nil {
		return nil, err
	}
	lazy.Config.Tokens = &zoomauth.Tokens{
		Grants: &zoomauth.Grants{DB: ddb, Table: table},
		Box:    &zoomauth.Sealer{KMS: kms.NewFromConfig(awsCfg), KeyID: keyVars["ZOOM_TOKENS_KEY_ARN"]},
		App:    func(ctx context.Context) (zoomauth.Refresher, error) { return a.get(ctx) },
		Log:    log,
	}
	return lazy, nil
}

// Connections builds the Connect Zoom use cases of the api function from
// ZOOM_SECRET_ARN, ZOOM_API_BASE, ZOOM_OAUTH_URL, ZOOM_REDIRECT_URL and
// ZOOM_TOKENS_KEY_ARN. customers and waker are the service's store and the
// release use cases.
func Connections(awsCfg aws.Config, ddb *dynamodb.Client, table string, customers zoomauth.Customers, waker zoomauth.Waker, log *slog.Logger) (*zoomauth.Connections, error) {
	vars, err := config.Require("ZOOM_SECRET_ARN", "ZOOM_API_BASE", "ZOOM_OAUTH_URL", "ZOOM_REDIRECT_URL", "ZOOM_TOKENS_KEY_ARN")
	if err != nil {
		return nil, err
	}
	rel, err := config.ReadRelease(os.Getenv)
	if err != nil {
		return nil, err
	}
	a := newApp(awsCfg, vars, log)
	grants := &zoomauth.Grants{DB: ddb, Table: table}
	return &zoomauth.Connections{Required: rel.Mode != domain.ModeCarrier,
		Grants: grants, States: grants, Customers: customers,
		Box:         &zoomauth.Sealer{KMS: kms.NewFromConfig(awsCfg), KeyID: vars["ZOOM_TOKENS_KEY_ARN"]},
		App:         func(ctx context.Context) (zoomauth.OAuthApp, error) { return a.get(ctx) },
		RedirectURL: vars["ZOOM_REDIRECT_URL"], Waker: waker, Log: log,
	}, nil
}
