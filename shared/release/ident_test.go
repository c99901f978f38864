package release

import (
	"context"
	"strings"
	"testing"

	"numberrelease/shared/apperr"
)

// TestCustomerIDMustBeAnIdentifier: every provider use case refuses a
// customer_id outside the identifier syntax with a 400 naming the field,
// before any lookup; AuthorizeRequest makes the checks RequestRelease makes.
func TestCustomerIDMustBeAnIdentifier(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := context.Background()
	calls := map[string]func(customerID string) error{
		"RequestRelease": func(c string) error {
			_, err := svc.RequestRelease(ctx, provider, RequestInput{CustomerID: c, Numbers: []string{"+14155552671"}})
			return err
		},
		"AuthorizeRequest": func(c string) error {
			return svc.AuthorizeRequest(ctx, provider, RequestInput{CustomerID: c})
		},
		"ProviderList": func(c string) error {
			_, err := svc.ProviderList(ctx, provider, c, ListParams{})
			return err
		},
		"Cancel": func(c string) error {
			_, err := svc.Cancel(ctx, provider, c, "+97239754571")
			return err
		},
	}
	tests := []struct {
		customerID string
		code       apperr.Code
		detail     string
	}{
		{"acme#RELEASED", apperr.Invalid, "customer_id is not a valid identifier: character 5 is '#'"},
		{"ACME", apperr.Invalid, "customer_id is not a valid identifier"},
		{strings.Repeat("a", 65), apperr.Invalid, "customer_id is not a valid identifier: it is 65 bytes long"},
		{"globex", apperr.NotFound, `not linked to customer "globex"`},
	}
	for name, call := range calls {
		for _, tt := range tests {
			t.Run(name+"/"+tt.customerID, func(t *testing.T) {
				err := call(tt.customerID)
				if apperr.CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.detail) {
					t.Fatalf("err = %v; want %s mentioning %q", err, tt.code, tt.detail)
				}
			})
		}
	}
	if err := svc.AuthorizeRequest(ctx, provider, RequestInput{CustomerID: " acme "}); err != nil {
		t.Fatalf("AuthorizeRequest of a linked customer: %v", err)
	}
	if err := svc.AuthorizeRequest(ctx, customer, RequestInput{CustomerID: "acme"}); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("AuthorizeRequest for a customer admin err = %v; want forbidden", err)
	}
	if err := svc.AuthorizeRequest(ctx, provider, RequestInput{}); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), "customer_id is required") {
		t.Fatalf("AuthorizeRequest without customer_id err = %v", err)
	}
}
