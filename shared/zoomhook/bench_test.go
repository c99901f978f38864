package zoomhook_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/zoomhook"
)

// BenchmarkURLValidation measures Zoom's endpoint.url_validation challenge
// end to end through the handler: read the body, verify the signature and
// timestamp, answer plainToken and its HMAC. Zoom wants the answer within
// 3 s; this is the handler's own share of that.
func BenchmarkURLValidation(b *testing.B) {
	body := `{"event":"endpoint.url_validation","event_ts":1764200000000,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}`
	h := zoomhook.New(zoomhook.Config{
		Secret: secret,
		Now:    func() time.Time { return t0 },
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, &fakeHinter{})
	// The signed request is built once; each iteration gets a fresh body.
	proto := signed(body, t0, secret)
	b.ReportAllocs()
	for b.Loop() {
		r := proto.Clone(proto.Context())
		r.Body = io.NopCloser(strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.StopTimer()
	rec := httptest.NewRecorder()
	r := proto.Clone(proto.Context())
	r.Body = io.NopCloser(strings.NewReader(body))
	h.ServeHTTP(rec, r)
	var got zoomhook.URLValidationResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.EncryptedToken != independentHMAC(secret, got.PlainToken) {
		b.Fatalf("answer %s: %v", rec.Body, err)
	}
}
