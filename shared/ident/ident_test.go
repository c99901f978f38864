package ident

import (
	"regexp"
	"strings"
	"testing"
)

var pattern = regexp.MustCompile(Pattern)

func TestCheck(t *testing.T) {
	tests := []struct {
		id      string
		wantErr string // "" for a valid identifier, else a part of the reason
	}{
		{"acme", ""},
		{"pxc", ""},
		{"alice", ""},
		{"initech", ""},
		{"5f2c8e1a-93b4-4c1e-b3a2-0d6c1c6e7f10", ""},
		{"a", ""},
		{"0", ""},
		{"cust-07", ""},
		{"acme.eu_west-1", ""},
		{strings.Repeat("a", MaxLength), ""},
		{"", "empty"},
		{strings.Repeat("a", MaxLength+1), "65 bytes long"},
		{"acme#RELEASED", `character 5 is '#'`},
		{"pxc#batch", `'#'`},
		{"ACME", `character 1 is 'A'`},
		{"acMe", `character 3 is 'M'`},
		{"alice/root", `'/'`},
		{"provider:pxc", `':'`},
		{"auth0|abc", `'|'`},
		{"a b", `' '`},
		{"acme ", `' '`},
		{"a%23b", `'%'`},
		{"a\x00b", "byte 0x00"},
		{"a\nb", "byte 0x0a"},
		{"acmé", "byte 0xc3"},
		{"-acme", "starts with '-'"},
		{".acme", "starts with '.'"},
		{"_acme", "starts with '_'"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := Check(tt.id)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Check(%q) = %v; want nil", tt.id, err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Check(%q) = nil; want an error mentioning %q", tt.id, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Check(%q) = %q; want it to mention %q", tt.id, err, tt.wantErr)
			}
			if (Check(tt.id) == nil) != (tt.wantErr == "") {
				t.Fatalf("Check(%q) = %v", tt.id, Check(tt.id))
			}
			if pattern.MatchString(tt.id) != (tt.wantErr == "") {
				t.Fatalf("Pattern and Check disagree on %q", tt.id)
			}
		})
	}
}

// FuzzCheckMatchesPattern keeps the published Pattern and the code that
// enforces it in step.
func FuzzCheckMatchesPattern(f *testing.F) {
	for _, s := range []string{"acme", "acme#x", "", "-a", "A", strings.Repeat("z", 64), strings.Repeat("z", 65), "a\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if (Check(id) == nil) != pattern.MatchString(id) {
			t.Fatalf("Check(%q) = %v but Pattern says %v", id, Check(id), pattern.MatchString(id))
		}
	})
}

func TestCheckZoomAccount(t *testing.T) {
	zoomPattern := regexp.MustCompile(ZoomAccountPattern)
	tests := []struct {
		id      string
		wantErr string
	}{
		{"Q4ZqBuXlQ0agHvmM6cSgYA", ""}, // a real Zoom account id's shape
		{"-Xy_9", ""},
		{"zoom-acme", ""},
		{strings.Repeat("A", MaxLength), ""},
		{"", "empty"},
		{strings.Repeat("A", MaxLength+1), "65 bytes long"},
		{"zoom#acme", `character 5 is '#'`},
		{"a b", `' '`},
		{"a%23", `'%'`},
		{"ü", "byte 0xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			err := CheckZoomAccount(tt.id)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("CheckZoomAccount(%q) = %v; want nil", tt.id, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("CheckZoomAccount(%q) = %v; want an error mentioning %q", tt.id, err, tt.wantErr)
			}
			if zoomPattern.MatchString(tt.id) != (tt.wantErr == "") {
				t.Fatalf("ZoomAccountPattern and CheckZoomAccount disagree on %q", tt.id)
			}
		})
	}
}
