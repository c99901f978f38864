package customers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
)

var (
	olive    = auth.Principal{Role: auth.RoleOperator, Subject: "olive"}
	pxc      = auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "pat"}
	acmeUser = auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"}
)

func ptr[T any](v T) *T { return &v }

func newService(t *testing.T) (*Service, *storetest.Store, *bytes.Buffer) {
	t.Helper()
	st := storetest.New()
	if err := st.PutTenants(context.Background(), []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}},
		[]domain.Link{{ProviderID: "pxc", CustomerID: "acme"}}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	return New(st, slog.New(slog.NewJSONHandler(&logs, nil))), st, &logs
}

// TestCheckInput: every field is held to its rule, and the problem names
// the field.
func TestCheckInput(t *testing.T) {
	emails := func(n int) *[]string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("ops%d@nova.example", i)
		}
		return &out
	}
	tests := []struct {
		name     string
		id       string
		in       Input
		mentions string // "" for valid input
	}{
		{"all fields", "nova", Input{Name: ptr("Nova Telecom"), ZoomAccountID: ptr("zoom-nova"), ContactEmails: &[]string{"it@nova.example", "ops+zoom@nova.example"}}, ""},
		{"name only", "nova", Input{Name: ptr("Nova")}, ""},
		{"200 Hebrew letters", "nova", Input{Name: ptr(strings.Repeat("ש", 200))}, ""},
		{"no contact emails", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{}}, ""},
		{"ten contact emails", "nova", Input{Name: ptr("Nova"), ContactEmails: emails(10)}, ""},
		{"leading and inner spaces", "nova", Input{Name: ptr("  Nova  Telecom")}, ""},
		{"customer id in upper case", "Nova", Input{Name: ptr("Nova")}, "customer_id is not a valid identifier"},
		{"customer id with the delimiter", "nova#1", Input{Name: ptr("Nova")}, "customer_id is not a valid identifier"},
		{"no name", "nova", Input{ZoomAccountID: ptr("zoom-nova")}, "name is required"},
		{"empty name", "nova", Input{Name: ptr("")}, "name is empty"},
		{"blank name", "nova", Input{Name: ptr(" \t\u00a0\u3000")}, "name is blank"},
		{"201 letters", "nova", Input{Name: ptr(strings.Repeat("x", 201))}, "name is 201 characters; at most 200"},
		{"a bell in the name", "nova", Input{Name: ptr("Nova\a")}, "name: character 5 is a control character (U+0007)"},
		{"a line break in the name", "nova", Input{Name: ptr("Nova\nTelecom")}, "name: character 5 is a control character"},
		{"a C1 control in the name", "nova", Input{Name: ptr("Nova\u0085")}, "name: character 5 is a control character"},
		{"empty Zoom account", "nova", Input{Name: ptr("Nova"), ZoomAccountID: ptr("")}, "zoom_account_id is not a Zoom account id: it is empty"},
		{"Zoom account with spaces", "nova", Input{Name: ptr("Nova"), ZoomAccountID: ptr("zoom nova")}, "zoom_account_id is not a Zoom account id: character 5 is ' '"},
		{"eleven contact emails", "nova", Input{Name: ptr("Nova"), ContactEmails: emails(11)}, "contact_emails has 11 addresses; at most 10"},
		{"not an address", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"it@nova.example", "nova.example"}}, "contact_emails[1] is not a valid email address"},
		{"a display name", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"Nova IT <it@nova.example>"}}, "contact_emails[0] must be a bare address"},
		{"angle brackets", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"<it@nova.example>"}}, "contact_emails[0] must be a bare address"},
		{"a trailing space", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"it@nova.example "}}, "contact_emails[0] must be a bare address"},
		{"two addresses in one", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"a@nova.example, b@nova.example"}}, "contact_emails[0] is not a valid email address"},
		{"an address twice", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{"a@nova.example", "b@nova.example", "a@nova.example"}}, "contact_emails[2] repeats contact_emails[0]"},
		{"a long address", "nova", Input{Name: ptr("Nova"), ContactEmails: &[]string{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".example"}}, "contact_emails[0] is 263 bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckInput(tt.id, tt.in)
			if tt.mentions == "" {
				if err != nil {
					t.Fatalf("valid input refused: %v", err)
				}
				return
			}
			if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), tt.mentions) {
				t.Fatalf("err = %v; want invalid_request mentioning %q", err, tt.mentions)
			}
		})
	}
}

// TestPut: created, then updated; fields left out keep their values, an
// empty list clears the contact emails, links stay, and each change is
// logged with the operator.
func TestPut(t *testing.T) {
	svc, st, logs := newService(t)
	ctx := context.Background()
	c, created, err := svc.Put(ctx, olive, "nova", Input{Name: ptr("Nova"), ZoomAccountID: ptr("zoom-nova"), ContactEmails: &[]string{"it@nova.example"}})
	if err != nil || !created {
		t.Fatalf("create: %+v, %v, %v", c, created, err)
	}
	want := domain.Customer{ID: "nova", Name: "Nova", ZoomAccountID: "zoom-nova", ContactEmails: []string{"it@nova.example"}}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("created %+v; want %+v", c, want)
	}
	if err := st.Link(ctx, "pxc", "nova"); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		in   Input
		want domain.Customer
	}{
		{"rename keeps the rest", Input{Name: ptr("Nova Telecom")},
			domain.Customer{ID: "nova", Name: "Nova Telecom", ZoomAccountID: "zoom-nova", ContactEmails: []string{"it@nova.example"}, Providers: []string{"pxc"}}},
		{"new Zoom account", Input{Name: ptr("Nova Telecom"), ZoomAccountID: ptr("zoom-nova-2")},
			domain.Customer{ID: "nova", Name: "Nova Telecom", ZoomAccountID: "zoom-nova-2", ContactEmails: []string{"it@nova.example"}, Providers: []string{"pxc"}}},
		{"contact emails cleared", Input{Name: ptr("Nova Telecom"), ContactEmails: &[]string{}},
			domain.Customer{ID: "nova", Name: "Nova Telecom", ZoomAccountID: "zoom-nova-2", ContactEmails: []string{}, Providers: []string{"pxc"}}},
		{"the same again", Input{Name: ptr("Nova Telecom"), ZoomAccountID: ptr("zoom-nova-2")},
			domain.Customer{ID: "nova", Name: "Nova Telecom", ZoomAccountID: "zoom-nova-2", ContactEmails: []string{}, Providers: []string{"pxc"}}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, created, err := svc.Put(ctx, olive, "nova", s.in)
			if err != nil || created {
				t.Fatalf("update: %v, created %v", err, created)
			}
			if len(got.ContactEmails) == 0 && len(s.want.ContactEmails) == 0 {
				got.ContactEmails, s.want.ContactEmails = nil, nil
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Fatalf("answered %+v; want %+v", got, s.want)
			}
			stored, err := st.GetCustomer(ctx, "nova")
			if len(stored.ContactEmails) == 0 {
				stored.ContactEmails = nil
			}
			if err != nil || !reflect.DeepEqual(stored, s.want) {
				t.Fatalf("stored %+v, %v; want %+v", stored, err, s.want)
			}
		})
	}
	if c, err := st.CustomerByZoomAccount(ctx, "zoom-nova-2"); err != nil || c.ID != "nova" {
		t.Fatalf("the lookup did not move: %+v, %v", c, err)
	}
	if _, err := st.CustomerByZoomAccount(ctx, "zoom-nova"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("the old lookup stayed: %v", err)
	}
	for _, want := range []string{`"msg":"customer saved"`, `"actor":"operator:olive"`, `"operator":"olive"`, `"customer_id":"nova"`, `"created":true`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs.String(), "it@nova.example") {
		t.Errorf("the log holds a contact address:\n%s", logs)
	}
}

// TestPutRefusals: another customer's Zoom account is a 409 naming it, a
// caller other than an operator a 403; nothing is written either way.
func TestPutRefusals(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		p        auth.Principal
		id       string
		in       Input
		code     apperr.Code
		mentions string
	}{
		{"acme's Zoom account for a new customer", olive, "nova", Input{Name: ptr("Nova"), ZoomAccountID: ptr("zoom-acme")}, apperr.Conflict, "Zoom account zoom-acme already belongs to customer acme"},
		{"a provider", pxc, "nova", Input{Name: ptr("Nova")}, apperr.Forbidden, "operators"},
		{"a customer admin", acmeUser, "acme", Input{Name: ptr("Mine")}, apperr.Forbidden, "operators"},
		{"a bad field", olive, "nova", Input{Name: ptr("")}, apperr.Invalid, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := svc.Put(ctx, tt.p, tt.id, tt.in)
			if apperr.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.mentions) {
				t.Fatalf("err = %v; want %s mentioning %q", err, tt.code, tt.mentions)
			}
			if _, err := st.GetCustomer(ctx, "nova"); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("nova was written: %v", err)
			}
			if c, _ := st.GetCustomer(ctx, "acme"); c.Name != "Acme" {
				t.Fatalf("acme was changed: %+v", c)
			}
			if st.Calls(storetest.OpPutCustomer) > 1 {
				t.Fatalf("%d writes; at most the refused one", st.Calls(storetest.OpPutCustomer))
			}
		})
	}
}

// racing fails the first writes with a conflict, as a write that lost a
// race to another does.
type racing struct {
	*storetest.Store
	losses int
}

func (r *racing) PutCustomer(ctx context.Context, c domain.Customer, prev *domain.Customer) error {
	if r.losses > 0 {
		r.losses--
		return fmt.Errorf("put customer %s: %w", c.ID, domain.ErrConflict)
	}
	return r.Store.PutCustomer(ctx, c, prev)
}

// TestPutRetriesARace: a write that lost a race is read and tried again,
// a few times, then answered 409.
func TestPutRetriesARace(t *testing.T) {
	for _, tt := range []struct {
		losses int
		code   apperr.Code
	}{{1, ""}, {conflictRetries, ""}, {conflictRetries + 1, apperr.Conflict}} {
		t.Run(fmt.Sprint(tt.losses, " losses"), func(t *testing.T) {
			st := &racing{Store: storetest.New(), losses: tt.losses}
			svc := New(st, slog.New(slog.DiscardHandler))
			_, _, err := svc.Put(context.Background(), olive, "nova", Input{Name: ptr("Nova")})
			if apperr.CodeOf(err) != tt.code && !(tt.code == "" && err == nil) {
				t.Fatalf("err = %v; want %q", err, tt.code)
			}
		})
	}
}

// TestLinks: linking needs the customer (404 naming it), both are
// identifiers, only an operator may; a provider lists what it is linked to.
func TestLinks(t *testing.T) {
	svc, st, logs := newService(t)
	ctx := context.Background()
	if _, _, err := svc.Put(ctx, olive, "nova", Input{Name: ptr("Nova")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		p                  auth.Principal
		provider, customer string
		code               apperr.Code
		mentions           string
	}{
		{"unknown customer", olive, "pxc", "nobody", apperr.NotFound, "customer nobody not found; create it first"},
		{"bad provider id", olive, "PXC", "nova", apperr.Invalid, "provider_id is not a valid identifier"},
		{"bad customer id", olive, "pxc", "no va", apperr.Invalid, "customer_id is not a valid identifier"},
		{"a provider links itself", pxc, "pxc", "nova", apperr.Forbidden, "operators"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for name, act := range map[string]func(context.Context, auth.Principal, string, string) error{"link": svc.Link, "unlink": svc.Unlink} {
				if name == "unlink" && tt.code == apperr.NotFound {
					continue // unlinking what is not linked is done already
				}
				err := act(ctx, tt.p, tt.provider, tt.customer)
				if apperr.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.mentions) {
					t.Fatalf("%s: err = %v; want %s mentioning %q", name, err, tt.code, tt.mentions)
				}
			}
		})
	}
	for range 2 {
		if err := svc.Link(ctx, olive, "pxc", "nova"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := svc.ForProvider(ctx, pxc)
	if err != nil || len(got) != 2 || got[0].ID != "acme" || got[1].ID != "nova" {
		t.Fatalf("pxc's customers = %+v, %v", got, err)
	}
	for range 2 {
		if err := svc.Unlink(ctx, olive, "pxc", "nova"); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Unlink(ctx, olive, "pxc", "nobody"); err != nil {
		t.Fatalf("unlinking from an unknown customer: %v", err)
	}
	if linked, _ := st.IsLinked(ctx, "pxc", "nova"); linked {
		t.Fatal("still linked")
	}
	if got, err := svc.ForProvider(ctx, pxc); err != nil || len(got) != 1 || got[0].ID != "acme" {
		t.Fatalf("pxc's customers after unlinking = %+v, %v", got, err)
	}
	if _, err := svc.ForProvider(ctx, olive); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("an operator's own customer list: %v", err)
	}
	for _, want := range []string{`"msg":"provider linked"`, `"msg":"provider unlinked"`, `"actor":"operator:olive"`, `"provider_id":"pxc"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}

// TestList: pages by id; the limit and cursor are checked.
func TestList(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	for _, id := range []string{"nova", "bolt", "zeta"} {
		if _, _, err := svc.Put(ctx, olive, id, Input{Name: ptr(id)}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cursor := ""
	for {
		page, err := svc.List(ctx, olive, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			ids = append(ids, c.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(ids) != "[acme bolt nova zeta]" {
		t.Fatalf("listed %v", ids)
	}
	for _, tt := range []struct {
		name   string
		p      auth.Principal
		cursor string
		limit  int
		code   apperr.Code
	}{
		{"bad cursor", olive, "abc", 0, apperr.Invalid},
		{"limit over 100", olive, "", 101, apperr.Invalid},
		{"a provider", pxc, "", 0, apperr.Forbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := svc.List(ctx, tt.p, tt.cursor, tt.limit); apperr.CodeOf(err) != tt.code {
				t.Fatalf("err = %v; want %s", err, tt.code)
			}
		})
	}
}
