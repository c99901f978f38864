// Package auth verifies bearer JWTs and turns their claims into the caller's
// identity. Identity comes from verified claims only, never from a body.
package auth

// Role is what a caller may do.
type Role string

// Roles carried in the "role" claim.
const (
	RoleCustomerAdmin Role = "customer_admin"
	RoleProvider      Role = "provider"
	// RoleOperator runs the service for everyone (onboarding, support).
	RoleOperator Role = "operator"
)

// Principal is a verified caller.
type Principal struct {
	Role    Role
	Subject string
	// TenantID is the customer the caller administers (customer_admin only).
	TenantID string
	// ProviderID is the carrier the caller acts for (provider only).
	ProviderID string
}

// Actor names the caller in audit history, e.g. "customer:acme/alice",
// "provider:pxc" or "operator:olive".
func (p Principal) Actor() string {
	switch p.Role {
	case RoleCustomerAdmin:
		return "customer:" + p.TenantID + "/" + p.Subject
	case RoleProvider:
		return "provider:" + p.ProviderID
	case RoleOperator:
		return "operator:" + p.Subject
	}
	return "unknown"
}
