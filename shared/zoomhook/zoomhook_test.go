package zoomhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/apperr"
	"numberrelease/shared/harness/apicheck"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomhook"
	"numberrelease/shared/zoomsig"
)

var (
	// validator checks every answer against the OpenAPI document.
	validator = mustValidator()
	secret    = []byte("local-webhook-secret")
	t0        = time.Unix(1_764_200_000, 0)
)

func mustValidator() *apicheck.Validator {
	v, err := apicheck.NewValidator()
	if err != nil {
		panic(err)
	}
	return v
}

type call struct{ AccountID, E164 string }

// fakeHinter records the hints it is given.
type fakeHinter struct {
	mu    sync.Mutex
	calls []call
	err   error
}

func (f *fakeHinter) Unassigned(_ context.Context, accountID, e164 string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{accountID, e164})
	return f.err
}

// signed returns a POST to the webhook with Zoom's headers for body sent at ts.
func signed(body string, ts time.Time, key []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, zoomhook.Path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(zoomsig.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	r.Header.Set(zoomsig.HeaderSignature, zoomsig.Sign(key, ts, []byte(body)))
	return r
}

func unassignBody(account, phone string) string {
	return `{"event":"` + zoomhook.EventUnassigned + `","event_ts":1764200000000,"payload":{"account_id":"` + account +
		`","object":{"phone_number":"` + phone + `","phone_number_id":"pn-1","previous_assignee":{"id":"u1","name":"Dana","type":"user"}}}}`
}

// independentHMAC is hex(HMAC-SHA256(key, msg)) computed without zoomsig.
func independentHMAC(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhook(t *testing.T) {
	validation := `{"event":"endpoint.url_validation","event_ts":1764200000000,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}`
	big := unassignBody("acct-1", "+97239754569")
	tooBig := big + strings.Repeat(" ", zoomhook.MaxBodyBytes+1-len(big))
	exact := big + strings.Repeat(" ", zoomhook.MaxBodyBytes-len(big))

	tests := []struct {
		name       string
		req        func() *http.Request
		hinterErr  error
		wantStatus int
		wantCalls  []call
		wantLog    string // a substring of the log
		check      func(t *testing.T, rec *httptest.ResponseRecorder)
	}{
		{
			name:       "url validation answers with an independently checkable encryptedToken",
			req:        func() *http.Request { return signed(validation, t0, secret) },
			wantStatus: http.StatusOK,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				var got map[string]string
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatalf("decode %s: %v", rec.Body, err)
				}
				want := map[string]string{
					"plainToken":     "qgg8vlvZRS6UYooatFL8Aw",
					"encryptedToken": independentHMAC(secret, "qgg8vlvZRS6UYooatFL8Aw"),
				}
				if len(got) != 2 || got["plainToken"] != want["plainToken"] || got["encryptedToken"] != want["encryptedToken"] {
					t.Fatalf("body = %v; want %v", got, want)
				}
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type = %q", ct)
				}
			},
		},
		{
			name:       "url validation without plainToken",
			req:        func() *http.Request { return signed(`{"event":"endpoint.url_validation","payload":{}}`, t0, secret) },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "unassign hint is handed on with the normalised number",
			req:        func() *http.Request { return signed(unassignBody("acct-1", "972 3975-4569"), t0, secret) },
			wantStatus: http.StatusNoContent,
			wantCalls:  []call{{"acct-1", "+97239754569"}},
		},
		{
			name: "timestamp within tolerance",
			req: func() *http.Request {
				return signed(unassignBody("acct-1", "+97239754569"), t0.Add(-4*time.Minute), secret)
			},
			wantStatus: http.StatusNoContent,
			wantCalls:  []call{{"acct-1", "+97239754569"}},
		},
		{
			name:       "body of exactly 64 KiB is accepted",
			req:        func() *http.Request { return signed(exact, t0, secret) },
			wantStatus: http.StatusNoContent,
			wantCalls:  []call{{"acct-1", "+97239754569"}},
		},
		{
			name:       "signed with another secret",
			req:        func() *http.Request { return signed(unassignBody("acct-1", "+97239754569"), t0, []byte("other")) },
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrSignature.Error(),
		},
		{
			name: "body changed after signing",
			req: func() *http.Request {
				r := signed(unassignBody("acct-1", "+97239754569"), t0, secret)
				evil := signed(unassignBody("acct-1", "+97239754571"), t0, secret)
				evil.Header = r.Header
				return evil
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrSignature.Error(),
		},
		{
			name: "missing both headers",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, zoomhook.Path, strings.NewReader(unassignBody("acct-1", "+97239754569")))
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrMissing.Error(),
		},
		{
			name: "missing signature",
			req: func() *http.Request {
				r := signed(unassignBody("acct-1", "+97239754569"), t0, secret)
				r.Header.Del(zoomsig.HeaderSignature)
				return r
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrMissing.Error(),
		},
		{
			name: "missing timestamp",
			req: func() *http.Request {
				r := signed(unassignBody("acct-1", "+97239754569"), t0, secret)
				r.Header.Del(zoomsig.HeaderTimestamp)
				return r
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrMissing.Error(),
		},
		{
			name: "stale timestamp, correctly signed",
			req: func() *http.Request {
				return signed(unassignBody("acct-1", "+97239754569"), t0.Add(-6*time.Minute), secret)
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrStale.Error(),
		},
		{
			name: "timestamp from the future",
			req: func() *http.Request {
				return signed(unassignBody("acct-1", "+97239754569"), t0.Add(6*time.Minute), secret)
			},
			wantStatus: http.StatusUnauthorized,
			wantLog:    zoomsig.ErrStale.Error(),
		},
		{
			name:       "body over 64 KiB",
			req:        func() *http.Request { return signed(tooBig, t0, secret) },
			wantStatus: http.StatusRequestEntityTooLarge,
		},
		{
			name:       "invalid JSON, correctly signed",
			req:        func() *http.Request { return signed(`{"event":`, t0, secret) },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "wrongly typed JSON, correctly signed",
			req:        func() *http.Request { return signed(`{"event":42}`, t0, secret) },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "envelope without an event, correctly signed",
			req:        func() *http.Request { return signed(`{"payload":{"account_id":"acct-1"}}`, t0, secret) },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "JSON array, correctly signed",
			req:        func() *http.Request { return signed(`[{"event":"endpoint.url_validation"}]`, t0, secret) },
			wantStatus: http.StatusBadRequest,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if !strings.Contains(rec.Body.String(), "the request body must be a JSON object, not an array") {
					t.Fatalf("problem does not say what was wrong: %s", rec.Body)
				}
			},
		},
		{
			name: "unknown event is acknowledged and ignored",
			req: func() *http.Request {
				return signed(`{"event":"phone.callee_ended","payload":{"account_id":"acct-1"}}`, t0, secret)
			},
			wantStatus: http.StatusNoContent,
			wantLog:    "event not handled",
		},
		{
			name:       "unparseable number is acknowledged and ignored",
			req:        func() *http.Request { return signed(unassignBody("acct-1", "not-a-number"), t0, secret) },
			wantStatus: http.StatusOK,
			wantLog:    "phone number not valid",
		},
		{
			name:       "unassign without account is acknowledged and ignored",
			req:        func() *http.Request { return signed(unassignBody("", "+97239754569"), t0, secret) },
			wantStatus: http.StatusOK,
			wantLog:    "account_id missing",
		},
		{
			name:       "hinter error asks Zoom to deliver again",
			req:        func() *http.Request { return signed(unassignBody("acct-1", "+97239754569"), t0, secret) },
			hinterErr:  errors.New("dynamodb: throttled"),
			wantStatus: http.StatusInternalServerError,
			wantCalls:  []call{{"acct-1", "+97239754569"}},
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if strings.Contains(rec.Body.String(), "throttled") {
					t.Fatalf("internal error text reached the caller: %s", rec.Body)
				}
			},
		},
		{
			name:       "hinter's coded error is still a 500",
			req:        func() *http.Request { return signed(unassignBody("acct-1", "+97239754569"), t0, secret) },
			hinterErr:  apperr.New(apperr.NotFound, "no customer for account"),
			wantStatus: http.StatusInternalServerError,
			wantCalls:  []call{{"acct-1", "+97239754569"}},
		},
		{
			name:       "GET",
			req:        func() *http.Request { return httptest.NewRequest(http.MethodGet, zoomhook.Path, nil) },
			wantStatus: http.StatusMethodNotAllowed,
			check: func(t *testing.T, rec *httptest.ResponseRecorder) {
				if got := rec.Header().Get("Allow"); got != http.MethodPost {
					t.Fatalf("Allow = %q; want POST", got)
				}
			},
		},
		{
			name: "other path",
			req: func() *http.Request {
				return httptest.NewRequest(http.MethodPost, "/zoom/webhooks", strings.NewReader(validation))
			},
			wantStatus: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			hinter := &fakeHinter{err: tt.hinterErr}
			h := zoomhook.New(zoomhook.Config{
				Secret: secret,
				Now:    func() time.Time { return t0 },
				Log:    slog.New(slog.NewJSONHandler(&logs, nil)),
			}, hinter)

			req := tt.req()
			sig := req.Header.Get(zoomsig.HeaderSignature)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if rec.Code >= 400 {
				assertProblem(t, rec)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q; want nosniff", got)
			}
			if err := validator.ValidateResponse(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
				t.Errorf("answer does not match the OpenAPI document: %v", err)
			}
			if len(hinter.calls) != len(tt.wantCalls) {
				t.Fatalf("hinter calls = %v; want %v", hinter.calls, tt.wantCalls)
			}
			for i := range tt.wantCalls {
				if hinter.calls[i] != tt.wantCalls[i] {
					t.Fatalf("hinter calls = %v; want %v", hinter.calls, tt.wantCalls)
				}
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Fatalf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			if sig != "" && strings.Contains(logs.String(), strings.TrimPrefix(sig, "v0=")) {
				t.Fatalf("log contains the signature:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), string(secret)) {
				t.Fatalf("log contains the secret:\n%s", logs.String())
			}
			if tt.check != nil {
				tt.check(t, rec)
			}
		})
	}
}

func assertProblem(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != apperr.ContentType {
		t.Fatalf("Content-Type = %q; want %q", ct, apperr.ContentType)
	}
	var p struct {
		Status   int    `json:"status"`
		Code     string `json:"code"`
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem %s: %v", rec.Body, err)
	}
	if p.Status != rec.Code || p.Code == "" || p.Instance == "" {
		t.Fatalf("problem = %+v for status %d", p, rec.Code)
	}
}

// TestReplayIsRefused captures a request that was accepted and sends it again,
// byte for byte, six minutes later.
func TestReplayIsRefused(t *testing.T) {
	now := t0
	hinter := &fakeHinter{}
	h := zoomhook.New(zoomhook.Config{Secret: secret, Now: func() time.Time { return now }, Log: discard()}, hinter)

	body := unassignBody("acct-1", "+97239754569")
	first := signed(body, t0, secret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, first)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("first delivery: status %d; want 204", rec.Code)
	}

	now = t0.Add(6 * time.Minute)
	replay := httptest.NewRequest(http.MethodPost, zoomhook.Path, strings.NewReader(body))
	replay.Header = first.Header.Clone()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, replay)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("replay: status %d; want 401", rec.Code)
	}
	if len(hinter.calls) != 1 {
		t.Fatalf("hinter called %d times; want 1", len(hinter.calls))
	}
}

// TestRequestIDFromContext checks that an id set by the adapter (API
// Gateway's) is the one problems quote.
func TestRequestIDFromContext(t *testing.T) {
	h := zoomhook.New(zoomhook.Config{Secret: secret, Now: func() time.Time { return t0 }, Log: discard()}, &fakeHinter{})
	req := httptest.NewRequest(http.MethodGet, zoomhook.Path, nil)
	req = req.WithContext(jsonhttp.WithRequestID(req.Context(), "apigw-req-1"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"instance":"apigw-req-1"`) {
		t.Fatalf("problem does not quote the request id: %s", rec.Body)
	}
}

func TestSecretFunc(t *testing.T) {
	tests := []struct {
		name       string
		fn         func(context.Context) ([]byte, error)
		wantStatus int
	}{
		{"loaded on demand", func(context.Context) ([]byte, error) { return secret, nil }, http.StatusNoContent},
		{"load fails", func(context.Context) ([]byte, error) { return nil, errors.New("secrets manager down") }, http.StatusServiceUnavailable},
		{"empty secret", func(context.Context) ([]byte, error) { return nil, nil }, http.StatusServiceUnavailable},
		{"none configured", nil, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hinter := &fakeHinter{}
			h := zoomhook.New(zoomhook.Config{SecretFunc: tt.fn, Now: func() time.Time { return t0 }, Log: discard()}, hinter)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, signed(unassignBody("acct-1", "+97239754569"), t0, secret))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d; want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if wantCalls := map[bool]int{true: 1, false: 0}[tt.wantStatus == http.StatusNoContent]; len(hinter.calls) != wantCalls {
				t.Fatalf("hinter calls = %d; want %d", len(hinter.calls), wantCalls)
			}
		})
	}
}

// TestHintTimeout checks that a slow Hinter is cut off, so Zoom gets an
// answer in time and delivers again later.
func TestHintTimeout(t *testing.T) {
	slow := hinterFunc(func(ctx context.Context, _, _ string) error {
		<-ctx.Done()
		return ctx.Err()
	})
	h := zoomhook.New(zoomhook.Config{Secret: secret, HintTimeout: 10 * time.Millisecond, Now: func() time.Time { return t0 }, Log: discard()}, slow)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(unassignBody("acct-1", "+97239754569"), t0, secret))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d; want 500", rec.Code)
	}
}

type hinterFunc func(ctx context.Context, accountID, e164 string) error

func (f hinterFunc) Unassigned(ctx context.Context, accountID, e164 string) error {
	return f(ctx, accountID, e164)
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestAcceptsTheSimulatorsNotification guards against drift between the
// notification the Zoom simulator sends (package zoom) and what is read here.
func TestAcceptsTheSimulatorsNotification(t *testing.T) {
	if zoom.EventNumberUnassigned != zoomhook.EventUnassigned {
		t.Fatalf("event names differ: zoom %q, zoomhook %q", zoom.EventNumberUnassigned, zoomhook.EventUnassigned)
	}
	body, err := json.Marshal(zoom.UnassignedEvent{
		Event: zoom.EventNumberUnassigned, EventTS: t0.UnixMilli(),
		Payload: zoom.UnassignedPayload{AccountID: "acme-zoom", Object: zoom.UnassignedObject{
			PhoneNumber: "+97239754569", PhoneNumberID: "pn-9", PreviousAssignee: zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hinter := &fakeHinter{}
	h := zoomhook.New(zoomhook.Config{Secret: secret, Now: func() time.Time { return t0 }, Log: discard()}, hinter)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, signed(string(body), t0, secret))
	if rec.Code != http.StatusNoContent || len(hinter.calls) != 1 || hinter.calls[0] != (call{"acme-zoom", "+97239754569"}) {
		t.Fatalf("status %d, hinter calls %v; want 204 and one hint", rec.Code, hinter.calls)
	}
}
