package release

import (
	"context"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/ident"
)

// SupportGet returns one number of any customer with its whole history, as
// the customer's own GET shows it, for an operator helping a customer or a
// provider.
func (s *Service) SupportGet(ctx context.Context, p auth.Principal, customerID, rawNumber string) (Detail, error) {
	if p.Role != auth.RoleOperator || p.Subject == "" {
		return Detail{}, apperr.New(apperr.Forbidden, "this operation is for operators")
	}
	if err := checkCustomerID(customerID); err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, customerID, rawNumber)
}

// actor names the caller in a number's history: the principal's Actor,
// and for a provider also the person (or client) the token names, when its
// sub is an identifier: "provider:pxc/pat". A provider's sub is not checked
// when its token is verified (it is often an OAuth client id), so one that
// is not an identifier (the local issuer's default "provider:pxc", a URL)
// is left out rather than written into the history.
func actor(p auth.Principal) string {
	if p.Role == auth.RoleProvider && p.Subject != "" && ident.Check(p.Subject) == nil {
		return p.Actor() + "/" + p.Subject
	}
	return p.Actor()
}
