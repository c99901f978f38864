package jsonhttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"numberrelease/shared/apperr"
)

// TestEnsureRequestID: the id API Gateway gave wins, then the client's
// header when one is trusted, then a new one.
func TestEnsureRequestID(t *testing.T) {
	tests := []struct {
		name, ctxID, header, headerValue string
		want                             string // "" = a new random id
	}{
		{"API Gateway's id", "apigw-1", "X-Request-Id", "client-1", "apigw-1"},
		{"the client's header", "", "X-Request-Id", "client-1", "client-1"},
		{"no header trusted", "", "", "client-1", ""},
		{"nothing given", "", "X-Request-Id", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.ctxID != "" {
				r = r.WithContext(WithRequestID(r.Context(), tt.ctxID))
			}
			r.Header.Set("X-Request-Id", tt.headerValue)
			got := RequestID(EnsureRequestID(r, tt.header).Context())
			switch {
			case tt.want != "" && got != tt.want:
				t.Fatalf("id %q; want %q", got, tt.want)
			case tt.want == "" && (len(got) != 24 || got == tt.headerValue):
				t.Fatalf("id %q; want a new 24-digit hex id", got)
			}
		})
	}
	if id := RequestID(context.Background()); id != "" {
		t.Fatalf("RequestID of a bare context = %q", id)
	}
}

func TestReadBody(t *testing.T) {
	tests := []struct {
		name string
		body *http.Request
		want apperr.Code // "" = read
	}{
		{"within the limit", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789")), ""},
		{"over the limit", httptest.NewRequest(http.MethodPost, "/", strings.NewReader("0123456789A")), apperr.TooLarge},
		{"unreadable", httptest.NewRequest(http.MethodPost, "/", iotest.ErrReader(errors.New("reset"))), apperr.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadBody(httptest.NewRecorder(), tt.body, 10)
			if tt.want == "" {
				if err != nil || string(b) != "0123456789" {
					t.Fatalf("ReadBody = %q, %v", b, err)
				}
				return
			}
			if apperr.CodeOf(err) != tt.want {
				t.Fatalf("ReadBody err = %v; want %s", err, tt.want)
			}
		})
	}
}

// TestWriteProblem: the problem names the request's id as its instance.
func TestWriteProblem(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(WithRequestID(r.Context(), "req-7"))
	w := httptest.NewRecorder()
	p := WriteProblem(w, r, apperr.New(apperr.NotFound, "no such thing"))
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusNotFound || p.Instance != "req-7" || body["instance"] != "req-7" || body["code"] != "not_found" ||
		w.Header().Get("Content-Type") != apperr.ContentType {
		t.Fatalf("problem %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
}
