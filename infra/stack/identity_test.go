package stack

import (
	"strings"
	"testing"
)

// The user pool: invited users only, signing in by email (any case), a
// TOTP authenticator required of everyone and no SMS, a strong password,
// recovery by email; kept and protected in production.
func TestUserPool(t *testing.T) {
	tests := []struct {
		cfg                Config
		protection, policy string
	}{
		{dev, "INACTIVE", "Delete"},
		{prod, "ACTIVE", "Retain"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Stage, func(t *testing.T) {
			s := synthStack(t, tt.cfg)
			id, props := s.only(t, "AWS::Cognito::UserPool")
			if got := s.resources[id]["DeletionPolicy"]; got != tt.policy {
				t.Errorf("DeletionPolicy %v, want %s", got, tt.policy)
			}
			admin := props["AdminCreateUserConfig"].(map[string]any)
			want := map[string]string{
				"DeletionProtection":     `"` + tt.protection + `"`,
				"MfaConfiguration":       `"ON"`,
				"EnabledMfas":            `["SOFTWARE_TOKEN_MFA"]`,
				"UsernameAttributes":     `["email"]`,
				"UsernameConfiguration":  `{"CaseSensitive":false}`,
				"AccountRecoverySetting": `{"RecoveryMechanisms":[{"Name":"verified_email","Priority":1}]}`,
				"Policies": `{"PasswordPolicy":{"MinimumLength":12,"RequireLowercase":true,"RequireNumbers":true,` +
					`"RequireSymbols":true,"RequireUppercase":true,"TemporaryPasswordValidityDays":7}}`,
				"UserPoolTier":                `"ESSENTIALS"`,
				"UserAttributeUpdateSettings": `{"AttributesRequireVerificationBeforeUpdate":["email"]}`,
			}
			for k, w := range want {
				if got := jsonString(t, props[k]); got != w {
					t.Errorf("%s = %s, want %s", k, got, w)
				}
			}
			if admin["AllowAdminCreateUserOnly"] != true {
				t.Errorf("AllowAdminCreateUserOnly = %v, want true (no self sign-up)", admin["AllowAdminCreateUserOnly"])
			}
			// The invitation names the customer app, the user name and the
			// temporary password.
			msg := flattenJoin(t, admin["InviteMessageTemplate"].(map[string]any)["EmailMessage"])
			for _, w := range []string{`Sign in at https://","` + s.logicalID(t, s.stack.FrontDoor.Distribution) + `.DomainName","/ `, "{username}", "{####}", "TOTP"} {
				if !strings.Contains(msg, w) {
					t.Errorf("invitation %q lacks %q", msg, w)
				}
			}
			// Nothing SMS, nothing remembered: every sign-in asks for the code.
			for _, k := range []string{"SmsConfiguration", "DeviceConfiguration", "UserPoolAddOns", "LambdaConfig"} {
				if _, ok := props[k]; ok {
					t.Errorf("%s = %s, want none", k, jsonString(t, props[k]))
				}
			}
		})
	}
}

// The pages' client: public, the code grant only, exactly the front door's
// two URLs, short-lived tokens, email the only attribute it reads or
// writes, Cognito's own sign-in only.
func TestUserPoolClient(t *testing.T) {
	s := synthStack(t, dev)
	_, props := s.only(t, "AWS::Cognito::UserPoolClient")
	dist := s.logicalID(t, s.stack.FrontDoor.Distribution)
	urls := `[{"Fn::Join":["",["https://",{"Fn::GetAtt":["` + dist + `","DomainName"]},"/"]]},` +
		`{"Fn::Join":["",["https://",{"Fn::GetAtt":["` + dist + `","DomainName"]},"/portal"]]}]`
	want := map[string]string{
		"UserPoolId":                      `{"Ref":"` + s.logicalID(t, s.stack.SignIn.Pool) + `"}`,
		"GenerateSecret":                  `false`,
		"AllowedOAuthFlows":               `["code"]`,
		"AllowedOAuthFlowsUserPoolClient": `true`,
		"AllowedOAuthScopes":              `["openid","email"]`,
		"CallbackURLs":                    urls,
		"LogoutURLs":                      urls,
		"SupportedIdentityProviders":      `["COGNITO"]`,
		"PreventUserExistenceErrors":      `"ENABLED"`,
		"EnableTokenRevocation":           `true`,
		"ExplicitAuthFlows":               `["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]`,
		"AccessTokenValidity":             `15`,
		"IdTokenValidity":                 `15`,
		"RefreshTokenValidity":            `720`,
		"TokenValidityUnits":              `{"AccessToken":"minutes","IdToken":"minutes","RefreshToken":"minutes"}`,
		"AuthSessionValidity":             `15`,
		"ReadAttributes":                  `["email"]`,
		"WriteAttributes":                 `["email"]`,
	}
	for k, w := range want {
		if got := jsonString(t, props[k]); got != w {
			t.Errorf("%s = %s, want %s", k, got, w)
		}
	}
}

// The managed login's domain: numberrelease-<stage>-<account>, the classic
// hosted UI.
func TestUserPoolDomain(t *testing.T) {
	for _, cfg := range []Config{dev, prod} {
		t.Run(cfg.Stage, func(t *testing.T) {
			s := synthStack(t, cfg)
			_, props := s.only(t, "AWS::Cognito::UserPoolDomain")
			want := `{"Fn::Join":["",["numberrelease-` + cfg.Stage + `-",{"Ref":"AWS::AccountId"}]]}`
			if got := jsonString(t, props["Domain"]); got != want {
				t.Errorf("Domain = %s, want %s", got, want)
			}
			if props["ManagedLoginVersion"] != float64(1) {
				t.Errorf("ManagedLoginVersion = %v, want 1 (classic hosted UI)", props["ManagedLoginVersion"])
			}
			if refOf(props["UserPoolId"]) != s.logicalID(t, s.stack.SignIn.Pool) {
				t.Errorf("UserPoolId = %v", props["UserPoolId"])
			}
		})
	}
}

// The operator group always; the first operator only when the stage names
// one, invited by email and put in the group, both kept when the setting
// changes.
func TestOperatorGroupAndFirstOperator(t *testing.T) {
	s := synthStack(t, dev)
	_, group := s.only(t, "AWS::Cognito::UserPoolGroup")
	if group["GroupName"] != "operator" || refOf(group["UserPoolId"]) != s.logicalID(t, s.stack.SignIn.Pool) {
		t.Errorf("group %s", jsonString(t, group))
	}
	if n := len(s.ofType("AWS::Cognito::UserPoolUser")) + len(s.ofType("AWS::Cognito::UserPoolUserToGroupAttachment")); n != 0 {
		t.Errorf("%d users or memberships without operatorEmail", n)
	}
	// The memberships are data: kept with the pool in production.
	p := synthStack(t, prod)
	if got := p.resources[p.logicalID(t, p.stack.SignIn.Operator)]["DeletionPolicy"]; got != "Retain" {
		t.Errorf("prod operator group DeletionPolicy %v, want Retain", got)
	}

	o := synthStack(t, withOperator)
	uid, user := o.only(t, "AWS::Cognito::UserPoolUser")
	pool := o.logicalID(t, o.stack.SignIn.Pool)
	for k, w := range map[string]string{
		"UserPoolId":             `{"Ref":"` + pool + `"}`,
		"Username":               `"olive@ops.example"`,
		"UserAttributes":         `[{"Name":"email","Value":"olive@ops.example"},{"Name":"email_verified","Value":"true"}]`,
		"DesiredDeliveryMediums": `["EMAIL"]`,
	} {
		if got := jsonString(t, user[k]); got != w {
			t.Errorf("user %s = %s, want %s", k, got, w)
		}
	}
	aid, member := o.only(t, "AWS::Cognito::UserPoolUserToGroupAttachment")
	if refOf(member["GroupName"]) != o.logicalID(t, o.stack.SignIn.Operator) || member["Username"] != "olive@ops.example" ||
		refOf(member["UserPoolId"]) != pool {
		t.Errorf("membership %s", jsonString(t, member))
	}
	if deps := stringsOf(o.resources[aid]["DependsOn"]); !strings.Contains(strings.Join(deps, ","), uid) {
		t.Errorf("membership DependsOn %v, want the user %s", deps, uid)
	}
	for _, id := range []string{uid, aid} {
		if got := o.resources[id]["DeletionPolicy"]; got != "Retain" {
			t.Errorf("%s DeletionPolicy %v, want Retain", id, got)
		}
	}
}
