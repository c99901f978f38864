package release

import (
	"context"
	"errors"
	"testing"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
)

// TestActorNamesThePerson: history names the person behind a provider's
// token when the token says who (an identifier sub); a sub that is not
// one (the local issuer's default "provider:<id>", an OAuth client's URL)
// is left out. The other roles are as auth.Principal.Actor names them.
func TestActorNamesThePerson(t *testing.T) {
	tests := []struct {
		name string
		p    auth.Principal
		want string
	}{
		{"provider person", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "pat"}, "provider:pxc/pat"},
		{"provider user id (Cognito)", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10"}, "provider:pxc/5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10"},
		{"provider without sub", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc"}, "provider:pxc"},
		{"provider local default sub", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "provider:pxc"}, "provider:pxc"},
		{"provider sub that is a URL", auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "https://idp.example/clients/7"}, "provider:pxc"},
		{"customer admin", auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"}, "customer:acme/alice"},
		{"operator", auth.Principal{Role: auth.RoleOperator, Subject: "olive"}, "operator:olive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actor(tt.p); got != tt.want {
				t.Fatalf("actor = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestProviderActionsRecordThePerson: a provider's request and cancel are
// recorded in the history with the person who made them.
func TestProviderActionsRecordThePerson(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	pat := auth.Principal{Role: auth.RoleProvider, ProviderID: "pxc", Subject: "pat"}
	if _, err := svc.RequestRelease(ctx, pat, RequestInput{CustomerID: "acme", Numbers: []string{"+97239754569"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Cancel(ctx, pat, "acme", "+97239754569"); err != nil {
		t.Fatal(err)
	}
	hist, err := st.History(ctx, "acme", "+97239754569")
	if err != nil || len(hist) != 2 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	for _, h := range hist {
		if h.Actor != "provider:pxc/pat" {
			t.Errorf("%s → %s by %q; want provider:pxc/pat", h.From, h.To, h.Actor)
		}
	}
	// newService's request had no person: the provider alone.
	if hist, _ := st.History(ctx, "acme", "+97239754571"); hist[0].Actor != "provider:pxc" {
		t.Errorf("actor without a person = %q", hist[0].Actor)
	}
}

// TestUnlinkedProviderIsToldSo: a provider that is not (or no longer)
// linked to a customer is refused with a 404 that says so, the same for an
// unknown customer, and nothing is written.
func TestUnlinkedProviderIsToldSo(t *testing.T) {
	svc, st, _ := newService(t)
	ctx := context.Background()
	if err := st.Unlink(ctx, "pxc", "acme"); err != nil {
		t.Fatal(err)
	}
	for _, customerID := range []string{"acme", "nobody"} {
		_, err := svc.RequestRelease(ctx, provider, RequestInput{CustomerID: customerID, Numbers: []string{"+97239754569"}})
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.NotFound || ae.Message != `provider pxc is not linked to customer "`+customerID+`" (or there is no such customer); ask the operator to link them` {
			t.Fatalf("request for %s: %v", customerID, err)
		}
	}
	if _, err := st.GetNumber(ctx, "acme", "+97239754569"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("a refused request was written: %v", err)
	}
}

// TestSupportGet: an operator reads any customer's number with its
// history, as the customer does; nobody else may.
func TestSupportGet(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	olive := auth.Principal{Role: auth.RoleOperator, Subject: "olive"}
	d, err := svc.SupportGet(ctx, olive, "acme", "97239754571")
	if err != nil || d.Number.Number != "+97239754571" || len(d.History) != 1 || d.History[0].Actor != "provider:pxc" {
		t.Fatalf("support view = %+v, %v", d, err)
	}
	own, err := svc.Get(ctx, customer, "+97239754571")
	if err != nil || own.Number != d.Number || len(own.History) != len(d.History) {
		t.Fatalf("the customer's view %+v differs from the support view %+v (%v)", own, d, err)
	}
	tests := []struct {
		name       string
		p          auth.Principal
		customerID string
		number     string
		code       apperr.Code
	}{
		{"provider", provider, "acme", "+97239754571", apperr.Forbidden},
		{"customer admin", customer, "acme", "+97239754571", apperr.Forbidden},
		{"bad customer id", olive, "Acme", "+97239754571", apperr.Invalid},
		{"bad number", olive, "acme", "12", apperr.InvalidNumbers},
		{"unknown number", olive, "acme", "+97239754569", apperr.NotFound},
		{"unknown customer", olive, "nobody", "+97239754571", apperr.NotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.SupportGet(ctx, tt.p, tt.customerID, tt.number)
			if got := apperr.CodeOf(err); got != tt.code {
				t.Fatalf("code %s (%v); want %s", got, err, tt.code)
			}
		})
	}
}
