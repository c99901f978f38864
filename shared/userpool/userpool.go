// Package userpool holds what the stack's Cognito user pool (infra/stack),
// the pool `make run` creates on the emulator (shared/harness/managedlogin)
// and the token verifier (shared/auth) must agree on: the groups that carry
// a caller's role, the password policy and the pages' OAuth scopes. One
// place, so the local pool cannot drift from the deployed one.
package userpool

// Groups carrying a role. A user belongs to exactly one of them:
// "customer_admin:<tenant_id>", "provider:<provider_id>" or "operator".
const (
	OperatorGroup            = "operator"
	CustomerAdminGroupPrefix = "customer_admin:"
	ProviderGroupPrefix      = "provider:"
)

// The password policy: at least PasswordMinLength characters with a lower-
// and an upper-case letter, a digit and a symbol; an invitation's temporary
// password lasts TempPasswordDays.
const (
	PasswordMinLength = 12
	TempPasswordDays  = 7
)

// Scopes are the OAuth scopes the pages ask for and their client allows.
var Scopes = []string{"openid", "email"}
