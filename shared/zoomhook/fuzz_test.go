package zoomhook_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"numberrelease/shared/zoomhook"
)

// FuzzWebhook: any correctly signed body gets a 2xx or a 4xx — never a
// server error — and a hint is given only for the project's unassign event.
func FuzzWebhook(f *testing.F) {
	for _, s := range []string{
		unassignBody("zoom-acme", "+97239754569"),
		`{"event":"endpoint.url_validation","payload":{"plainToken":"abc"}}`,
		`{"event":"phone.callee_ended"}`, `{"event":`, `[]`, `null`, `{"payload":{"object":{"phone_number":12}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := &fakeHinter{}
		hook := zoomhook.New(zoomhook.Config{Secret: secret, Now: func() time.Time { return t0 },
			Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}, h)
		rec := httptest.NewRecorder()
		hook.ServeHTTP(rec, signed(string(body), t0, secret))
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		if rec.Code != http.StatusNoContent && len(h.calls) > 0 {
			t.Fatalf("hint given but answered %d", rec.Code)
		}
	})
}
