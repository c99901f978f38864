package number_test

import (
	"fmt"
	"testing"

	"numberrelease/shared/number"
)

// BenchmarkParse normalises one number written the way people type it.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := number.Parse("+972 (3) 975-4571"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseList500 normalises the largest request (MaxPerRequest
// numbers), duplicates check included.
func BenchmarkParseList500(b *testing.B) {
	raw := make([]string, number.MaxPerRequest)
	for i := range raw {
		raw[i] = fmt.Sprintf("+1 415 555 %04d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := number.ParseList(raw)
		if err != nil || len(out) != len(raw) {
			b.Fatalf("%d numbers, %v", len(out), err)
		}
	}
}
