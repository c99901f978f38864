package httpapi

import (
	"errors"
	"strings"
	"testing"

	"numberrelease/shared/apperr"
	"numberrelease/shared/release"
)

// FuzzDecodeJSON: any body either decodes or is refused as an invalid
// request with a message in the API's words (no Go type names); nothing
// panics and nothing else comes out.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"customer_id":"acme","numbers":["+97239754571"],"reason":"x"}`,
		`{"numbers":["97239754571","97239754569"]}`,
		`{"customer_id": 1}`, `[]`, `null`, ``, `{"a":`, `{"numbers":["x"]}{}`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in release.RequestInput
		err := decodeJSON(body, &in)
		if err == nil {
			return
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid || ae.Message == "" {
			t.Fatalf("decodeJSON(%q) = %v; want an invalid_request with a message", body, err)
		}
		if strings.Contains(ae.Message, "release.") || strings.Contains(ae.Message, "[]string") || strings.Contains(ae.Message, "Go ") {
			t.Fatalf("decodeJSON(%q): message %q names Go internals", body, ae.Message)
		}
	})
}
