package devstack

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"numberrelease/shared/auth"
	"numberrelease/shared/harness/managedlogin"
	"numberrelease/shared/userpool"
	"numberrelease/web"
)

// DemoPassword is every demo user's password (SPEC: make run's demo users).
const DemoPassword = "Release-Demo-1"

// DemoUsers are the people who sign in to the pages of `make run`, each in
// the one group that gives their role (auth: Cognito groups).
var DemoUsers = []managedlogin.User{
	{Email: "alice@acme.example", Password: DemoPassword, Group: userpool.CustomerAdminGroupPrefix + "acme"},
	{Email: "gina@globex.example", Password: DemoPassword, Group: userpool.CustomerAdminGroupPrefix + "globex"},
	{Email: "pat@pxc.example", Password: DemoPassword, Group: userpool.ProviderGroupPrefix + "pxc"},
	{Email: "olive@ops.example", Password: DemoPassword, Group: userpool.OperatorGroup},
}

// startSignIn creates the user pool on the emulator, as the stack creates
// it on AWS, with the demo users when demo is set, and the stand-in for
// its managed login; it returns the pool's verifier configuration.
func (s *Stack) startSignIn(ctx context.Context, demo bool) (auth.Config, error) {
	awsCfg := s.moto.AWSConfig()
	s.IDP = cip.NewFromConfig(awsCfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	pool, err := managedlogin.CreatePool(ctx, s.IDP, managedlogin.PoolConfig{
		Name: "number-release-local", Region: awsCfg.Region,
		CallbackURLs: []string{s.URL + web.CustomerPath, s.URL + web.PortalPath},
	})
	if err != nil {
		return auth.Config{}, err
	}
	if demo {
		if err := managedlogin.AddUsers(ctx, s.IDP, pool.ID, DemoUsers); err != nil {
			return auth.Config{}, fmt.Errorf("demo users: %w", err)
		}
	}
	s.Pool = pool
	s.login = &managedlogin.Server{IDP: s.IDP, Pool: pool, Log: s.log}
	return auth.Config{
		Issuer: pool.Issuer, CognitoClientID: pool.ClientID,
		// The emulator publishes the pool's keys at its own address.
		JWKSURL: s.moto.Endpoint() + "/" + pool.ID + "/.well-known/jwks.json",
	}, nil
}

// pagesConfig points the pages at the stand-in, at the paths the managed
// login has on the pool's domain on AWS.
func (s *Stack) pagesConfig() web.Config {
	base := s.URL + managedlogin.Prefix
	return web.Config{Auth: web.AuthConfig{
		AuthorizeURL: base + "/oauth2/authorize", TokenURL: base + "/oauth2/token",
		RevokeURL: base + "/oauth2/revoke", LogoutURL: base + "/logout",
		ClientID: s.Pool.ClientID, Scope: strings.Join(userpool.Scopes, " "), Bearer: "access_token",
	}}
}
