package number

import (
	"errors"
	"fmt"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "97239754571", want: "+97239754571"},
		{in: "+97239754569", want: "+97239754569"},
		{in: "+972 3-975-4571", want: "+97239754571"},
		{in: "+1 (415) 555-2671", want: "+14155552671"},
		{in: "", wantErr: true},
		{in: "abc", wantErr: true},
		{in: "+1", wantErr: true},
		{in: "+9723975457199999", wantErr: true},
		{in: "+97239754571x", wantErr: true},
		{in: "++97239754571", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrNotPhoneNumber) {
					t.Fatalf("Parse(%q) = %q, %v; want ErrNotPhoneNumber", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseList(t *testing.T) {
	tooMany := make([]string, MaxPerRequest+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("+1415555%04d", i)
	}
	tests := []struct {
		name        string
		in          []string
		want        []string
		wantInvalid []string
	}{
		{name: "seed numbers", in: []string{"97239754571", "97239754569"}, want: []string{"+97239754571", "+97239754569"}},
		{name: "empty", in: nil, wantInvalid: []string{""}},
		{name: "one bad names it", in: []string{"+97239754571", "nope"}, wantInvalid: []string{"nope"}},
		{name: "duplicate after normalising", in: []string{"+97239754571", "97239754571"}, wantInvalid: []string{"97239754571"}},
		{name: "too many", in: tooMany, wantInvalid: []string{"501"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseList(tt.in)
			if tt.wantInvalid == nil {
				if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("ParseList = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("ParseList err = %v; want *InvalidError", err)
			}
			var values []string
			for _, p := range inv.Problems {
				values = append(values, p.Value)
			}
			if fmt.Sprint(values) != fmt.Sprint(tt.wantInvalid) {
				t.Fatalf("invalid values = %q; want %q", values, tt.wantInvalid)
			}
		})
	}
}
