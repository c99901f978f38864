// Package customers holds the onboarding use cases. An operator creates and
// updates customers, each write with every item the service needs of it
// (the customer, its place in the customer list, the lookup of its Zoom
// account) in one transaction, lists them, and links them to providers or
// unlinks them; a provider lists the customers linked to it. Handlers call
// it; it calls the store.
package customers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/ident"
)

// Limits of a customer's fields.
const (
	// MaxNameLength is the longest name, in characters (not bytes).
	MaxNameLength = 200
	// MaxContactEmails is how many contact addresses a customer may have.
	MaxContactEmails = 10
	// MaxEmailLength is the longest contact address, in bytes (RFC 5321's
	// limit on a path, less its angle brackets).
	MaxEmailLength = 254
	// conflictRetries is how often a write that lost a race is read and
	// tried again.
	conflictRetries = 3
)

// Store is what the use cases need from storage.
type Store interface {
	GetCustomer(ctx context.Context, customerID string) (domain.Customer, error)
	CustomerByZoomAccount(ctx context.Context, accountID string) (domain.Customer, error)
	// PutCustomer writes c with its lookup items in one transaction, if the
	// customer is still as prev (nil: absent); domain.ErrZoomAccountTaken
	// or domain.ErrConflict otherwise, with nothing written.
	PutCustomer(ctx context.Context, c domain.Customer, prev *domain.Customer) error
	Link(ctx context.Context, providerID, customerID string) error
	Unlink(ctx context.Context, providerID, customerID string) error
	ListCustomers(ctx context.Context, cursor string, limit int) (domain.CustomerPage, error)
	LinkedCustomers(ctx context.Context, providerID string) ([]domain.Customer, error)
}

// Service implements the use cases.
type Service struct {
	store Store
	log   *slog.Logger
}

// New returns the use cases over a store.
func New(st Store, log *slog.Logger) *Service { return &Service{store: st, log: log} }

// Input is a customer as an operator sends it (PUT). A nil field was left
// out: a new customer starts without it, an existing one keeps its value.
// Name is required.
type Input struct {
	Name          *string   `json:"name"`
	ZoomAccountID *string   `json:"zoom_account_id"`
	ContactEmails *[]string `json:"contact_emails"`
}

// Put creates or updates a customer and answers it as written (with its
// providers) and whether it was created. Every field is checked before
// anything is read (400 naming the field). A Zoom account another customer
// has is a 409 and nothing is written.
func (s *Service) Put(ctx context.Context, p auth.Principal, customerID string, in Input) (domain.Customer, bool, error) {
	if err := operator(p); err != nil {
		return domain.Customer{}, false, err
	}
	if err := CheckInput(customerID, in); err != nil {
		return domain.Customer{}, false, err
	}
	for attempt := 0; ; attempt++ {
		cur, err := s.store.GetCustomer(ctx, customerID)
		var prev *domain.Customer
		switch {
		case err == nil:
			prev = &cur
		case !errors.Is(err, domain.ErrNotFound):
			return domain.Customer{}, false, fmt.Errorf("read customer %s: %w", customerID, err)
		}
		next := domain.Customer{ID: customerID, Name: *in.Name}
		if prev != nil {
			next.ZoomAccountID, next.ContactEmails = prev.ZoomAccountID, prev.ContactEmails
		}
		if in.ZoomAccountID != nil {
			next.ZoomAccountID = *in.ZoomAccountID
		}
		if in.ContactEmails != nil {
			next.ContactEmails = *in.ContactEmails
		}
		err = s.store.PutCustomer(ctx, next, prev)
		switch {
		case errors.Is(err, domain.ErrZoomAccountTaken):
			return domain.Customer{}, false, s.accountTaken(ctx, next.ZoomAccountID)
		case errors.Is(err, domain.ErrConflict) && attempt < conflictRetries:
			continue
		case errors.Is(err, domain.ErrConflict):
			return domain.Customer{}, false, apperr.New(apperr.Conflict, "customer %s kept changing while it was saved; send it again", customerID)
		case err != nil:
			return domain.Customer{}, false, fmt.Errorf("save customer %s: %w", customerID, err)
		}
		if prev != nil {
			next.Providers = prev.Providers
		}
		old := ""
		if prev != nil {
			old = prev.ZoomAccountID
		}
		s.log.InfoContext(ctx, "customer saved", "actor", p.Actor(), "operator", p.Subject, "customer_id", customerID,
			"created", prev == nil, "zoom_account_id", next.ZoomAccountID, "previous_zoom_account_id", old,
			"contact_emails", len(next.ContactEmails))
		return next, prev == nil, nil
	}
}

// accountTaken is the 409 for a Zoom account another customer has, naming
// that customer when it can be read.
func (s *Service) accountTaken(ctx context.Context, account string) error {
	if holder, err := s.store.CustomerByZoomAccount(ctx, account); err == nil {
		return apperr.New(apperr.Conflict, "zoom_account_id: Zoom account %s already belongs to customer %s; nothing was changed", account, holder.ID)
	}
	return apperr.New(apperr.Conflict, "zoom_account_id: Zoom account %s already belongs to another customer; nothing was changed", account)
}

// CheckInput checks a customer id and body as Put does, naming the first
// field that is wrong.
func CheckInput(customerID string, in Input) error {
	if err := checkID("customer_id", customerID); err != nil {
		return err
	}
	if in.Name == nil {
		return apperr.New(apperr.Invalid, "name is required: the customer's name, 1 to %d characters", MaxNameLength)
	}
	if err := checkName(*in.Name); err != nil {
		return err
	}
	if in.ZoomAccountID != nil {
		if err := ident.CheckZoomAccount(*in.ZoomAccountID); err != nil {
			return apperr.New(apperr.Invalid, "zoom_account_id is not a Zoom account id: %v", err)
		}
	}
	if in.ContactEmails != nil {
		if err := checkEmails(*in.ContactEmails); err != nil {
			return err
		}
	}
	return nil
}

func checkID(field, id string) error {
	if err := ident.Check(id); err != nil {
		return apperr.New(apperr.Invalid, "%s is not a valid identifier: %v", field, err)
	}
	return nil
}

// checkName: 1 to MaxNameLength characters, not all white space, no
// control characters (a name is one line of plain text).
func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return apperr.New(apperr.Invalid, "name is empty; give the customer's name, 1 to %d characters", MaxNameLength)
	case n > MaxNameLength:
		return apperr.New(apperr.Invalid, "name is %d characters; at most %d are allowed", n, MaxNameLength)
	case strings.TrimSpace(name) == "":
		return apperr.New(apperr.Invalid, "name is blank; give the customer's name")
	}
	for i, r := range []rune(name) {
		if unicode.IsControl(r) {
			return apperr.New(apperr.Invalid, "name: character %d is a control character (U+%04X); a name is one line of plain text", i+1, r)
		}
	}
	return nil
}

// checkEmails: at most MaxContactEmails addresses, each a bare address
// (RFC 5322 addr-spec, as net/mail reads it: no display name, no angle
// brackets, no comments) of at most MaxEmailLength bytes, none twice.
func checkEmails(emails []string) error {
	if len(emails) > MaxContactEmails {
		return apperr.New(apperr.Invalid, "contact_emails has %d addresses; at most %d are allowed", len(emails), MaxContactEmails)
	}
	seen := map[string]int{}
	for i, e := range emails {
		if len(e) > MaxEmailLength {
			return apperr.New(apperr.Invalid, "contact_emails[%d] is %d bytes long; at most %d are allowed", i, len(e), MaxEmailLength)
		}
		addr, err := mail.ParseAddress(e)
		if err != nil {
			return apperr.New(apperr.Invalid, "contact_emails[%d] is not a valid email address (%v); send a bare address such as ops@acme.example", i, err)
		}
		if addr.Name != "" || addr.Address != e {
			return apperr.New(apperr.Invalid, "contact_emails[%d] must be a bare address such as ops@acme.example, without a display name, angle brackets or spaces", i)
		}
		if j, ok := seen[e]; ok {
			return apperr.New(apperr.Invalid, "contact_emails[%d] repeats contact_emails[%d]; give each address once", i, j)
		}
		seen[e] = i
	}
	return nil
}

// List returns one page of every customer, by id, with its providers.
func (s *Service) List(ctx context.Context, p auth.Principal, cursor string, limit int) (domain.CustomerPage, error) {
	if err := operator(p); err != nil {
		return domain.CustomerPage{}, err
	}
	if limit < 0 || limit > domain.MaxPageSize {
		return domain.CustomerPage{}, apperr.New(apperr.Invalid, "limit must be between 1 and %d", domain.MaxPageSize)
	}
	page, err := s.store.ListCustomers(ctx, cursor, limit)
	if errors.Is(err, domain.ErrBadCursor) {
		return domain.CustomerPage{}, apperr.New(apperr.Invalid, "cursor is not valid for this listing; start again without it")
	}
	if err != nil {
		return domain.CustomerPage{}, fmt.Errorf("list customers: %w", err)
	}
	return page, nil
}

// Link lets a provider act for an existing customer (404 naming it
// otherwise). Linking again changes nothing.
func (s *Service) Link(ctx context.Context, p auth.Principal, providerID, customerID string) error {
	if err := checkLink(p, providerID, customerID); err != nil {
		return err
	}
	err := s.store.Link(ctx, providerID, customerID)
	if errors.Is(err, domain.ErrNotFound) {
		return apperr.New(apperr.NotFound, "customer %s not found; create it first (PUT /admin/v1/customers/%s)", customerID, customerID)
	}
	if err != nil {
		return fmt.Errorf("link provider %s to customer %s: %w", providerID, customerID, err)
	}
	s.log.InfoContext(ctx, "provider linked", "actor", p.Actor(), "operator", p.Subject, "provider_id", providerID, "customer_id", customerID)
	return nil
}

// Unlink ends a provider's right to act for a customer. Its numbers in
// flight go on to finish; it can no longer request, cancel or list the
// customer's numbers. Unlinking again changes nothing.
func (s *Service) Unlink(ctx context.Context, p auth.Principal, providerID, customerID string) error {
	if err := checkLink(p, providerID, customerID); err != nil {
		return err
	}
	if err := s.store.Unlink(ctx, providerID, customerID); err != nil {
		return fmt.Errorf("unlink provider %s from customer %s: %w", providerID, customerID, err)
	}
	s.log.InfoContext(ctx, "provider unlinked", "actor", p.Actor(), "operator", p.Subject, "provider_id", providerID, "customer_id", customerID)
	return nil
}

func checkLink(p auth.Principal, providerID, customerID string) error {
	if err := operator(p); err != nil {
		return err
	}
	if err := checkID("provider_id", providerID); err != nil {
		return err
	}
	return checkID("customer_id", customerID)
}

// ForProvider returns the customers linked to the calling provider, by id.
func (s *Service) ForProvider(ctx context.Context, p auth.Principal) ([]domain.Customer, error) {
	if p.Role != auth.RoleProvider || p.ProviderID == "" {
		return nil, apperr.New(apperr.Forbidden, "this operation is for providers")
	}
	cs, err := s.store.LinkedCustomers(ctx, p.ProviderID)
	if err != nil {
		return nil, fmt.Errorf("customers of provider %s: %w", p.ProviderID, err)
	}
	return cs, nil
}

func operator(p auth.Principal) error {
	if p.Role != auth.RoleOperator || p.Subject == "" {
		return apperr.New(apperr.Forbidden, "this operation is for operators")
	}
	return nil
}
