package number

import (
	"strings"
	"testing"
)

// FuzzParse: whatever comes in, Parse never panics, agrees with the
// github.com/nyaruka/phonenumbers implementation it replaced (referenceParse),
// and what it accepts is E.164 and stable (parsing its own output gives the
// same number).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"97239754571", "+97239754569", "+1 (415) 555-2671", "", "+", "++1", "0097239754571", "+٣٣١٢٣٤٥٦٧٨٩", "+9723975457199999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		n, err := Parse(raw)
		if want, wantErr := referenceParse(raw); n != want || errorText(err) != errorText(wantErr) {
			t.Fatalf("Parse(%q) = %q, %v; library: %q, %v", raw, n, err, want, wantErr)
		}
		if err != nil {
			return
		}
		if !strings.HasPrefix(n, "+") || len(n) > 16 || strings.ContainsFunc(n[1:], func(r rune) bool { return r < '0' || r > '9' }) {
			t.Fatalf("Parse(%q) = %q: not E.164", raw, n)
		}
		again, err := Parse(n)
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %q, but Parse(%q) = %q, %v", raw, n, n, again, err)
		}
	})
}
