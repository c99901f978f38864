// Package demo is the demo data the local system starts with (`make run`,
// the e2e suite, the browser tests) and the LocalStack route seeds into
// its deployed table: three customers, the providers linked to them, and
// provider pxc's request to release two of acme's numbers, so acme's Wait
// for Release tab shows them.
package demo

import (
	"context"
	"log/slog"

	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/release"
)

// The demo numbers of acme, as pxc's request gives them (without the +):
// in the local system's simulated Zoom account the first is unassigned and
// the second assigned to a user.
const (
	Unassigned = "97239754571"
	Assigned   = "97239754569"
)

// Customers are the demo tenants, each with its Zoom account.
var Customers = []domain.Customer{
	{ID: "acme", Name: "Acme Corp", ZoomAccountID: "zoom-acme"},
	{ID: "globex", Name: "Globex", ZoomAccountID: "zoom-globex"},
	{ID: "initech", Name: "Initech", ZoomAccountID: "zoom-initech"},
}

// Links say which provider supplies numbers to which demo customer.
var Links = []domain.Link{
	{ProviderID: "pxc", CustomerID: "acme"},
	{ProviderID: "pxc", CustomerID: "globex"},
	{ProviderID: "other", CustomerID: "initech"},
}

// Store is where the demo data is written.
type Store interface {
	release.Store
	PutTenants(ctx context.Context, customers []domain.Customer, links []domain.Link) error
}

// Seed writes the demo tenants and pxc's request for acme's two numbers.
// It may run again: asking again for numbers already asked for changes
// nothing.
func Seed(ctx context.Context, st Store, log *slog.Logger) error {
	if err := st.PutTenants(ctx, Customers, Links); err != nil {
		return err
	}
	_, err := release.New(st, nil, log).RequestRelease(ctx,
		auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "provider:pxc"},
		release.RequestInput{CustomerID: "acme", Numbers: []string{Unassigned, Assigned}, Reason: "numbers returned to the carrier"})
	return err
}
