package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/userpool"
)

// oauthScopes are the pages' scopes (userpool.Scopes).
func oauthScopes() *[]awscognito.OAuthScope {
	var scopes []awscognito.OAuthScope
	for _, s := range userpool.Scopes {
		scopes = append(scopes, awscognito.OAuthScope_Custom(jsii.String(s)))
	}
	return &scopes
}

// OperatorGroup is the Cognito group of Number Release's operators. The
// other groups name what their members may see: customer_admin:<tenant>
// and provider:<provider>, created per tenant and provider by an operator
// (docs/DEPLOY.md, Creating the first users).
const OperatorGroup = userpool.OperatorGroup

// Token lifetimes of the pages' app client. The API verifies access tokens
// by their signature alone, so a revoked session's access token works
// until it expires: the lifetime is how long signing out can lag, and the
// pages refresh quietly every 15 minutes.
const (
	accessTokenMinutes = 15
	refreshTokenHours  = 12
	// signInSessionMinutes is how long the managed login's steps may take
	// (password, then a new password and TOTP set-up at a first sign-in):
	// Cognito's longest, since setting up an authenticator app takes a
	// while.
	signInSessionMinutes = 15
)

// SignIn is the stack's Amazon Cognito user pool and what belongs to it.
// Pool is nil when the stage trusts an external issuer instead
// (config.Identity).
type SignIn struct {
	Pool   awscognito.UserPool
	Domain awscognito.UserPoolDomain
	// Client is the pages' public app client (added once the front door's
	// URLs are known, addClient).
	Client   awscognito.UserPoolClient
	Operator awscognito.UserPoolGroup
	// FirstOperator is the stage's operatorEmail's user, or nil.
	FirstOperator *awscognito.CfnUserPoolUser
}

// newSignIn declares the user pool (nil when the stage names an external
// issuer), its managed login domain, the operator group and the stage's
// first operator. appURL is the customer app's address, which the
// invitation email names.
//
// Users are invited only (an operator runs admin-create-user); they sign
// in with their email address and must use a TOTP authenticator app as a
// second factor: set up at the first sign-in, asked for every time. No
// SMS anywhere (no SMS role, no SMS MFA, recovery by email only). What a
// user may see is their group (cognito:groups in the access token), which
// only an administrator can change.
func newSignIn(st awscdk.Stack, cfg Config, appURL *string) SignIn {
	if cfg.Identity.External() {
		return SignIn{}
	}
	pool := awscognito.NewUserPool(st, jsii.String("UserPool"), &awscognito.UserPoolProps{
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Email: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		StandardAttributes: &awscognito.StandardAttributes{
			Email: &awscognito.StandardAttribute{Required: jsii.Bool(true), Mutable: jsii.Bool(true)},
		},
		// A changed address is verified before it replaces the old one,
		// which stays the sign-in name until then.
		AutoVerify:   &awscognito.AutoVerifiedAttrs{Email: jsii.Bool(true)},
		KeepOriginal: &awscognito.KeepOriginalAttrs{Email: jsii.Bool(true)},
		Mfa:          awscognito.Mfa_REQUIRED,
		MfaSecondFactor: &awscognito.MfaSecondFactor{
			Otp: jsii.Bool(true),
			Sms: jsii.Bool(false),
		},
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(userpool.PasswordMinLength),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(userpool.TempPasswordDays)),
		},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		UserInvitation: &awscognito.UserInvitationConfig{
			EmailSubject: jsii.String("Your Number Release sign-in"),
			EmailBody: awscdk.Fn_Join(jsii.String(""), &[]*string{
				jsii.String("You have been invited to Number Release. Sign in at "), appURL,
				jsii.String(" with your email address {username} and the temporary password {####} within 7 days. " +
					"You will choose a new password and set up an authenticator app (TOTP) at your first sign-in."),
			}),
		},
		// ESSENTIALS: Cognito's default plan for new pools. Threat
		// protection would need PLUS (nag.go, COG3).
		FeaturePlan:        awscognito.FeaturePlan_ESSENTIALS,
		DeletionProtection: jsii.Bool(cfg.Production),
		RemovalPolicy:      removalPolicy(cfg),
	})
	// The managed login (classic hosted UI) on a Cognito domain:
	// numberrelease-<stage>-<account>, unique per account and stage (and
	// free of the words Cognito refuses: config.StageConfig.Validate).
	domain := pool.AddDomain(jsii.String("SignInDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{
			DomainPrefix: cognitoDomainPrefix(cfg),
		},
		ManagedLoginVersion: awscognito.ManagedLoginVersion_CLASSIC_HOSTED_UI,
	})
	operator := pool.AddGroup(jsii.String("OperatorGroup"), &awscognito.UserPoolGroupOptions{
		GroupName:   jsii.String(OperatorGroup),
		Description: jsii.String("Number Release operators: every tenant's and provider's numbers"),
	})
	// Memberships are data: kept with the pool in production.
	operator.ApplyRemovalPolicy(removalPolicy(cfg))
	s := SignIn{Pool: pool, Domain: domain, Operator: operator}
	if cfg.OperatorEmail != "" {
		s.FirstOperator = addFirstOperator(st, pool, operator, cfg.OperatorEmail)
	}
	return s
}

// addFirstOperator invites email as a user (a temporary password by email)
// and puts it in the operator group. Both are kept when the stage's
// operatorEmail changes or goes, so editing cdk.json never deletes a
// working operator (the pool's own removal policy still applies).
func addFirstOperator(st awscdk.Stack, pool awscognito.UserPool, group awscognito.UserPoolGroup, email string) *awscognito.CfnUserPoolUser {
	user := awscognito.NewCfnUserPoolUser(st, jsii.String("FirstOperator"), &awscognito.CfnUserPoolUserProps{
		UserPoolId: pool.UserPoolId(),
		// The pool signs in by email, so the user name is the address.
		Username: jsii.String(email),
		UserAttributes: &[]*awscognito.CfnUserPoolUser_AttributeTypeProperty{
			{Name: jsii.String("email"), Value: jsii.String(email)},
			// The invitation goes to this address: verified by the operator
			// who wrote it down, so password recovery can use it.
			{Name: jsii.String("email_verified"), Value: jsii.String("true")},
		},
		DesiredDeliveryMediums: jsii.Strings("EMAIL"),
	})
	user.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	member := awscognito.NewCfnUserPoolUserToGroupAttachment(st, jsii.String("FirstOperatorMembership"), &awscognito.CfnUserPoolUserToGroupAttachmentProps{
		UserPoolId: pool.UserPoolId(),
		GroupName:  group.GroupName(),
		// The address is the user's alias, which Cognito accepts as the
		// user name (the pool's own name for the user is its sub).
		Username: jsii.String(email),
	})
	member.AddDependency(user)
	member.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	return &user
}

// addClient declares the pages' app client: public (no secret), the
// authorization code grant only (the pages use PKCE), openid and email,
// redirected back to the customer app or the portal only.
func (s *SignIn) addClient(cfg Config, appURL, portalURL *string) {
	if s.Pool == nil {
		return
	}
	email := awscognito.NewClientAttributes().WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true)})
	urls := &[]*string{appURL, portalURL}
	s.Client = s.Pool.AddClient(jsii.String("PagesClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String("number-release-" + cfg.Stage + "-pages"),
		GenerateSecret:     jsii.Bool(false),
		// Sign-in goes through the managed login; refresh tokens through
		// the token endpoint. No password flow for scripts.
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		OAuth: &awscognito.OAuthSettings{
			Flows: &awscognito.OAuthFlows{
				AuthorizationCodeGrant: jsii.Bool(true),
				ImplicitCodeGrant:      jsii.Bool(false),
				ClientCredentials:      jsii.Bool(false),
			},
			Scopes:       oauthScopes(),
			CallbackUrls: urls,
			LogoutUrls:   urls,
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		PreventUserExistenceErrors: jsii.Bool(true),
		EnableTokenRevocation:      jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(accessTokenMinutes)),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(accessTokenMinutes)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(refreshTokenHours)),
		AuthSessionValidity:        awscdk.Duration_Minutes(jsii.Number(signInSessionMinutes)),
		// Users may read and change their email address and nothing
		// else: what they may see is their group, which only an
		// administrator sets.
		ReadAttributes:  email,
		WriteAttributes: email,
	})
}

// Issuer is the pool's token issuer (the tokens' iss), or nil without a
// pool.
func (s SignIn) Issuer() *string {
	if s.Pool == nil {
		return nil
	}
	return s.Pool.UserPoolProviderUrl()
}
