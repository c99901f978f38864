package release

import (
	"context"
	"strings"
	"testing"

	"numberrelease/shared/apperr"
)

// TestReasonLengthCountsCharacters: the 500 limit on reason is in
// characters, so a reason in Hebrew (two bytes a letter in UTF-8) is measured
// as its reader sees it.
func TestReasonLengthCountsCharacters(t *testing.T) {
	tests := []struct {
		name    string
		reason  string
		refused string // a substring of the refusal; "" when accepted
	}{
		{"300 Hebrew letters", strings.Repeat("ש", 300), ""},
		{"500 Hebrew letters", strings.Repeat("ש", 500), ""},
		{"500 emoji", strings.Repeat("📞", 500), ""},
		{"501 Hebrew letters", strings.Repeat("ש", 501), "reason is 501 characters; at most 500"},
		{"501 ASCII letters", strings.Repeat("x", 501), "reason is 501 characters; at most 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, _, _ := newService(t)
			_, err := svc.RequestRelease(context.Background(), provider,
				RequestInput{CustomerID: "acme", Numbers: []string{"+97239754569"}, Reason: tt.reason})
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), tt.refused) {
				t.Fatalf("err = %v; want invalid_request mentioning %q", err, tt.refused)
			}
		})
	}
}
