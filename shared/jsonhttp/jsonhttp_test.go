package jsonhttp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDescribeDecodeError(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"a":`, "unexpected end of input"},
		{`{"a" 1}`, "syntax error at byte 6"},
		{`{"numbers":"x"}`, `field "numbers" must be []string, not string`},
		{`{"nope":1}`, `unknown field "nope"`},
	}
	for _, tt := range tests {
		var v struct {
			Numbers []string `json:"numbers"`
		}
		dec := json.NewDecoder(strings.NewReader(tt.body))
		dec.DisallowUnknownFields()
		if got := DescribeDecodeError(dec.Decode(&v)); got != tt.want {
			t.Errorf("%s: %q; want %q", tt.body, got, tt.want)
		}
	}
}

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, http.StatusCreated, map[string]int{"n": 1})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"n":1}` || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("Write: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	if a, b := NewRequestID(), NewRequestID(); len(a) != 24 || a == b {
		t.Fatalf("request ids %q %q", a, b)
	}
}
