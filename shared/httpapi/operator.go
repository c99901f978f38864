package httpapi

import (
	"context"
	"net/http"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/customers"
	"numberrelease/shared/domain"
	"numberrelease/shared/jsonhttp"
)

// Customers are the onboarding use cases (customers.Service): the operator
// API's customers and links, and a provider's own customer list.
type Customers interface {
	Put(ctx context.Context, p auth.Principal, customerID string, in customers.Input) (domain.Customer, bool, error)
	List(ctx context.Context, p auth.Principal, cursor string, limit int) (domain.CustomerPage, error)
	Link(ctx context.Context, p auth.Principal, providerID, customerID string) error
	Unlink(ctx context.Context, p auth.Principal, providerID, customerID string) error
	ForProvider(ctx context.Context, p auth.Principal) ([]domain.Customer, error)
}

var _ Customers = (*customers.Service)(nil)

// WithCustomers serves the operator API's customers and links
// (/admin/v1/customers, /admin/v1/providers/…) and the provider's customer
// list (/provider/v1/customers); without it those paths answer 404.
func WithCustomers(c Customers) Option {
	return func(a *API) { a.customers = c }
}

// customerView is a customer as the operator API shows it.
type customerView struct {
	CustomerID    string   `json:"customer_id"`
	Name          string   `json:"name"`
	ZoomAccountID string   `json:"zoom_account_id,omitempty"`
	ContactEmails []string `json:"contact_emails"`
	Providers     []string `json:"providers"`
}

// customerSummary is a customer in the operator's listing.
type customerSummary struct {
	CustomerID    string   `json:"customer_id"`
	Name          string   `json:"name"`
	ZoomAccountID string   `json:"zoom_account_id,omitempty"`
	Providers     []string `json:"providers"`
}

type customerPageView struct {
	Items      []customerSummary `json:"items"`
	NextCursor *string           `json:"next_cursor"`
}

// linkedCustomer is a customer in a provider's list: what its picker shows.
type linkedCustomer struct {
	CustomerID string `json:"customer_id"`
	Name       string `json:"name"`
}

type linkedCustomersView struct {
	Items []linkedCustomer `json:"items"`
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) customersServed(w http.ResponseWriter, r *http.Request) bool {
	if a.customers == nil {
		a.problem(w, r, apperr.New(apperr.NotFound, "this deployment does not serve customers and links"))
		return false
	}
	return true
}

func (a *API) putCustomer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.customersServed(w, r) {
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	var in customers.Input
	if err := decodeJSON(body, &in); err != nil {
		a.problem(w, r, err)
		return
	}
	c, _, err := a.customers.Put(r.Context(), p, r.PathValue("customer_id"), in)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, customerView{CustomerID: c.ID, Name: c.Name, ZoomAccountID: c.ZoomAccountID,
		ContactEmails: nonNil(c.ContactEmails), Providers: nonNil(c.Providers)})
}

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.customersServed(w, r) {
		return
	}
	q, err := pageParams(r)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	page, err := a.customers.List(r.Context(), p, q.Cursor, q.Limit)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := customerPageView{Items: make([]customerSummary, len(page.Items))}
	for i, c := range page.Items {
		out.Items[i] = customerSummary{CustomerID: c.ID, Name: c.Name, ZoomAccountID: c.ZoomAccountID, Providers: nonNil(c.Providers)}
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

func (a *API) link(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.linkAction(w, r, p, Customers.Link)
}

func (a *API) unlink(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	a.linkAction(w, r, p, Customers.Unlink)
}

func (a *API) linkAction(w http.ResponseWriter, r *http.Request, p auth.Principal,
	act func(c Customers, ctx context.Context, p auth.Principal, providerID, customerID string) error) {
	if !a.customersServed(w, r) {
		return
	}
	if err := act(a.customers, r.Context(), p, r.PathValue("provider_id"), r.PathValue("customer_id")); err != nil {
		a.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) providerCustomers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !a.customersServed(w, r) {
		return
	}
	cs, err := a.customers.ForProvider(r.Context(), p)
	if err != nil {
		a.problem(w, r, err)
		return
	}
	out := linkedCustomersView{Items: make([]linkedCustomer, len(cs))}
	for i, c := range cs {
		out.Items[i] = linkedCustomer{CustomerID: c.ID, Name: c.Name}
	}
	jsonhttp.Write(w, http.StatusOK, out)
}

func (a *API) supportNumber(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	d, err := a.svc.SupportGet(r.Context(), p, r.PathValue("customer_id"), r.PathValue("number"))
	if err != nil {
		a.problem(w, r, err)
		return
	}
	jsonhttp.Write(w, http.StatusOK, detailOf(d))
}
