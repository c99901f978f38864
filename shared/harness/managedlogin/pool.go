// Package managedlogin is the local stand-in for Amazon Cognito's managed
// login (the hosted sign-in pages), which the AWS emulator lacks. It creates
// a real user pool on the emulator with the settings the stack gives the
// deployed one (infra/stack), and serves the OAuth endpoints the web pages
// use on AWS — authorize, token, revoke, logout — on top of it: passwords
// are checked and tokens issued by the emulator's Cognito, so the pages run
// the same sign-in code locally as on AWS. Local only; never deployed.
package managedlogin

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"numberrelease/shared/userpool"
)

// IDP is the part of the Cognito user pools API the stand-in uses.
type IDP interface {
	CreateUserPool(context.Context, *cip.CreateUserPoolInput, ...func(*cip.Options)) (*cip.CreateUserPoolOutput, error)
	CreateUserPoolClient(context.Context, *cip.CreateUserPoolClientInput, ...func(*cip.Options)) (*cip.CreateUserPoolClientOutput, error)
	CreateGroup(context.Context, *cip.CreateGroupInput, ...func(*cip.Options)) (*cip.CreateGroupOutput, error)
	AdminCreateUser(context.Context, *cip.AdminCreateUserInput, ...func(*cip.Options)) (*cip.AdminCreateUserOutput, error)
	AdminSetUserPassword(context.Context, *cip.AdminSetUserPasswordInput, ...func(*cip.Options)) (*cip.AdminSetUserPasswordOutput, error)
	AdminAddUserToGroup(context.Context, *cip.AdminAddUserToGroupInput, ...func(*cip.Options)) (*cip.AdminAddUserToGroupOutput, error)
	AdminInitiateAuth(context.Context, *cip.AdminInitiateAuthInput, ...func(*cip.Options)) (*cip.AdminInitiateAuthOutput, error)
	AdminUserGlobalSignOut(context.Context, *cip.AdminUserGlobalSignOutInput, ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
}

// Pool is a user pool and its web client.
type Pool struct {
	ID       string
	ClientID string
	// Issuer is the "iss" of the pool's tokens:
	// https://cognito-idp.<region>.amazonaws.com/<pool id>.
	Issuer string
	// CallbackURLs are the client's registered redirect and logout URIs.
	CallbackURLs []string
}

// PoolConfig describes the pool to create.
type PoolConfig struct {
	Name string
	// Region is the emulator's region (it appears in the issuer).
	Region string
	// CallbackURLs are the pages' redirect URIs (also their logout URIs).
	CallbackURLs []string
}

// CreatePool creates a pool configured as the stack's (infra/stack): users
// are created by an administrator only and sign in with their email, MFA
// is required (software token only), the password policy is the stack's,
// and one public app client (no secret) uses the authorization code grant.
// The emulator stores the MFA setting but does not challenge for it.
func CreatePool(ctx context.Context, idp IDP, cfg PoolConfig) (Pool, error) {
	pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName:               aws.String(cfg.Name),
		AdminCreateUserConfig:  &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true},
		UsernameAttributes:     []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
		UsernameConfiguration:  &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)},
		MfaConfiguration:       types.UserPoolMfaTypeOn,
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		AccountRecoverySetting: &types.AccountRecoverySettingType{RecoveryMechanisms: []types.RecoveryOptionType{{Name: types.RecoveryOptionNameTypeVerifiedEmail, Priority: aws.Int32(1)}}},
		Policies:               &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{MinimumLength: aws.Int32(userpool.PasswordMinLength), RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true, TemporaryPasswordValidityDays: userpool.TempPasswordDays}},
		DeletionProtection:     types.DeletionProtectionTypeInactive,
	})
	if err != nil {
		return Pool{}, fmt.Errorf("create user pool: %w", err)
	}
	id := aws.ToString(pool.UserPool.Id)
	client, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:                      aws.String(id),
		ClientName:                      aws.String(cfg.Name + "-web"),
		GenerateSecret:                  false,
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []types.OAuthFlowType{types.OAuthFlowTypeCode},
		AllowedOAuthScopes:              userpool.Scopes,
		CallbackURLs:                    cfg.CallbackURLs,
		LogoutURLs:                      cfg.CallbackURLs,
		SupportedIdentityProviders:      []string{"COGNITO"},
		PreventUserExistenceErrors:      types.PreventUserExistenceErrorTypesEnabled,
		EnableTokenRevocation:           aws.Bool(true),
		ReadAttributes:                  []string{"email"},
		WriteAttributes:                 []string{"email"},
		// The admin flow is the stand-in's own way to check a password;
		// the deployed client has no explicit flow besides refresh.
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		return Pool{}, fmt.Errorf("create user pool client: %w", err)
	}
	return Pool{ID: id, ClientID: aws.ToString(client.UserPoolClient.ClientId),
		Issuer: "https://cognito-idp." + cfg.Region + ".amazonaws.com/" + id, CallbackURLs: cfg.CallbackURLs}, nil
}

// User is a user to create with a permanent password in one group.
type User struct {
	Email, Password, Group string
}

// AddUsers creates each user (confirmed, with a permanent password, as if
// they had finished their invitation) and adds it to its group, creating
// groups as needed.
func AddUsers(ctx context.Context, idp IDP, poolID string, users []User) error {
	groups := map[string]bool{}
	for _, u := range users {
		if u.Group != "" && !groups[u.Group] {
			if _, err := idp.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: aws.String(poolID), GroupName: aws.String(u.Group)}); err != nil {
				return fmt.Errorf("create group %s: %w", u.Group, err)
			}
			groups[u.Group] = true
		}
		if _, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(poolID), Username: aws.String(u.Email),
			UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(u.Email)}, {Name: aws.String("email_verified"), Value: aws.String("true")}},
			MessageAction:  types.MessageActionTypeSuppress,
		}); err != nil {
			return fmt.Errorf("create user %s: %w", u.Email, err)
		}
		if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
			UserPoolId: aws.String(poolID), Username: aws.String(u.Email), Password: aws.String(u.Password), Permanent: true,
		}); err != nil {
			return fmt.Errorf("set the password of %s: %w", u.Email, err)
		}
		if u.Group != "" {
			if _, err := idp.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{
				UserPoolId: aws.String(poolID), Username: aws.String(u.Email), GroupName: aws.String(u.Group),
			}); err != nil {
				return fmt.Errorf("add %s to group %s: %w", u.Email, u.Group, err)
			}
		}
	}
	return nil
}
