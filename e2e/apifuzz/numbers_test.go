// Package apifuzz holds the API fuzz run (`make api-fuzz`, run.py): Schemathesis
// against the local system, driven by the OpenAPI document. Its only Go is
// this test of the phone numbers the run draws from.
package apifuzz

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"numberrelease/shared/number"
)

// TestPhoneNumberFamilies: every number of every family in
// phone_numbers.txt, from which the fuzz run draws the values of
// `format: phone-number` and `format: e164`, is a valid number already in
// E.164 form, so the run never sends an invalid number believing it valid.
func TestPhoneNumberFamilies(t *testing.T) {
	f, err := os.Open("phone_numbers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	families := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		family := strings.TrimSpace(sc.Text())
		if family == "" || strings.HasPrefix(family, "#") {
			continue
		}
		families++
		t.Run(family, func(t *testing.T) {
			free := strings.Count(family, "X")
			if free == 0 || free > 4 {
				t.Fatalf("family %q has %d free digits; want 1 to 4 (every number is checked)", family, free)
			}
			count := 1
			for range free {
				count *= 10
			}
			bad := 0
			for i := range count {
				digits := strconv.Itoa(i)
				digits = strings.Repeat("0", free-len(digits)) + digits
				n := family
				for _, d := range digits {
					n = strings.Replace(n, "X", string(d), 1)
				}
				if got, err := number.Parse(n); err != nil || got != n {
					if bad++; bad <= 5 {
						t.Errorf("%s: Parse = %q, %v; want it unchanged", n, got, err)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d numbers invalid", bad, count)
			}
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if families == 0 {
		t.Fatal("no families")
	}
}
