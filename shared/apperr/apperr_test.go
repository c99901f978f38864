package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProblemFor(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   Code
		wantDetail string
	}{
		{"coded", New(NotFound, "no number %s", "+1"), http.StatusNotFound, NotFound, "no number +1"},
		{"wrapped", fmt.Errorf("load: %w", New(Conflict, "stale")), http.StatusConflict, Conflict, "stale"},
		{"idempotency", New(IdempotencyMismatch, "x"), http.StatusUnprocessableEntity, IdempotencyMismatch, "x"},
		{"idempotency in progress", New(IdempotencyInProgress, "y"), http.StatusConflict, IdempotencyInProgress, "y"},
		{"over budget", New(TooManyRequests, "z"), http.StatusTooManyRequests, TooManyRequests, "z"},
		{"plain error hides its text", errors.New("dynamodb: secret table arn"), http.StatusInternalServerError, Internal, "an internal error occurred; it has been logged with the request id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ProblemFor(tt.err, "req-1")
			if p.Status != tt.wantStatus || p.Code != tt.wantCode || p.Detail != tt.wantDetail {
				t.Fatalf("ProblemFor = %+v", p)
			}
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"type", "title", "status", "detail", "instance", "code"} {
				if _, ok := m[k]; !ok {
					t.Errorf("problem JSON lacks %q: %s", k, b)
				}
			}
		})
	}
}

func TestWithKeepsOriginal(t *testing.T) {
	base := New(InvalidNumbers, "bad")
	withExt := base.With("invalid_numbers", []string{"x"})
	if base.Extensions != nil {
		t.Fatalf("With changed the original: %v", base.Extensions)
	}
	b, _ := json.Marshal(ProblemFor(withExt, ""))
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if _, ok := m["invalid_numbers"]; !ok {
		t.Fatalf("extension missing: %s", b)
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		err        error
		status     int
		retryAfter string
	}{
		{New(Unavailable, "busy"), http.StatusServiceUnavailable, "2"},
		{New(NotFound, "gone"), http.StatusNotFound, ""},
		{errors.New("secret detail"), http.StatusInternalServerError, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		p := Write(rec, tt.err, "req-9")
		if rec.Code != tt.status || p.Status != tt.status || rec.Header().Get("Content-Type") != ContentType ||
			rec.Header().Get("Retry-After") != tt.retryAfter || rec.Header().Get("Cache-Control") != "no-store" ||
			rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("Write(%v): %d %v", tt.err, rec.Code, rec.Header())
		}
		if strings.Contains(rec.Body.String(), "secret detail") || !strings.Contains(rec.Body.String(), `"instance":"req-9"`) {
			t.Fatalf("body = %s", rec.Body)
		}
	}
}
