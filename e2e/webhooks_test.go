package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/webhooks"
)

// hookReceiver is a provider's webhook endpoint on this machine: it checks
// every delivery's Standard Webhooks signature with the secret the
// registration returned, and fails the first attempts of each event as
// told.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server
	mu  sync.Mutex
	key []byte
	// failFirst is how many attempts of each webhook-id answer 500.
	failFirst int
	attempts  map[string]int
	events    []hookEvent
	bad       []string
}

type hookEvent struct {
	// ID and Signed are the webhook-id and webhook-timestamp headers.
	ID     string    `json:"-"`
	Signed int64     `json:"-"`
	Type   string    `json:"type"`
	At     time.Time `json:"timestamp"`
	Data   struct {
		Number         string    `json:"number"`
		CustomerID     string    `json:"customer_id"`
		ProviderID     string    `json:"provider_id"`
		RequestID      string    `json:"request_id"`
		Status         string    `json:"status"`
		PreviousStatus string    `json:"previous_status"`
		Message        string    `json:"message"`
		At             time.Time `json:"at"`
		Version        int       `json:"version"`
	}
}

func newHookReceiver(t *testing.T, failFirst int) *hookReceiver {
	h := &hookReceiver{t: t, failFirst: failFirst, attempts: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	id, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-signature")
	ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
	if err != nil || h.key == nil || !webhooks.Verify(h.key, id, ts, body, sig) {
		h.bad = append(h.bad, fmt.Sprintf("id %q timestamp %q signature %q", id, r.Header.Get("webhook-timestamp"), sig))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if age := time.Since(time.Unix(ts, 0)); age > 5*time.Minute || age < -5*time.Minute {
		h.bad = append(h.bad, fmt.Sprintf("id %q: timestamp %d is %s off", id, ts, age))
	}
	h.attempts[id]++
	if h.attempts[id] <= h.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var ev hookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		h.bad = append(h.bad, "not JSON: "+string(body))
	}
	ev.ID, ev.Signed = id, ts
	h.events = append(h.events, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) setSecret(secret string) {
	key, err := webhooks.DecodeSecret(secret)
	if err != nil {
		h.t.Fatalf("secret %q: %v", secret, err)
	}
	h.mu.Lock()
	h.key = key
	h.mu.Unlock()
}

func (h *hookReceiver) snapshot() ([]hookEvent, []string, map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	att := map[string]int{}
	for k, v := range h.attempts {
		att[k] = v
	}
	return append([]hookEvent(nil), h.events...), append([]string(nil), h.bad...), att
}

// waitFor polls the receiver until done says so, or fails after timeout.
func (h *hookReceiver) waitFor(timeout time.Duration, what string, done func([]hookEvent) bool) []hookEvent {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs, bad, _ := h.snapshot()
		if len(bad) > 0 {
			h.t.Fatalf("deliveries failed the receiver's checks: %v", bad)
		}
		if done(evs) {
			return evs
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("after %s the receiver has %d events; want %s: %+v", timeout, len(evs), what, evs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// webhookProvider links a provider of its own to acme (so no other test's
// changes reach its webhook) and registers the receiver.
func webhookProvider(t *testing.T, id string, h *hookReceiver, events []string) *client {
	t.Helper()
	olive := tokenFor(t, `{"kind":"operator","sub":"olive"}`)
	if st := olive.do("PUT", "/admin/v1/providers/"+id+"/customers/acme", nil, nil); st != http.StatusNoContent {
		t.Fatalf("link %s to acme: %d", id, st)
	}
	p := provider(t, id)
	var reg struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
		Secret string   `json:"secret"`
	}
	body := map[string]any{"url": h.srv.URL + "/hooks/number-release"}
	if events != nil {
		body["events"] = events
	}
	if st := p.do("PUT", "/provider/v1/webhook", body, &reg); st != http.StatusOK {
		t.Fatalf("register the webhook of %s: %d", id, st)
	}
	h.setSecret(reg.Secret)
	t.Cleanup(func() { p.do("DELETE", "/provider/v1/webhook", nil, nil) })
	return p
}

// A provider registers a webhook, asks for numbers, the customer approves,
// and the receiver gets every status change of both numbers, signed, each
// change once or more under one webhook-id, in the documented shape.
func TestWebhookDeliversEveryStatusChange(t *testing.T) {
	if stack == nil {
		t.Skip("the receiver runs on this machine, beside the in-process system")
	}
	numbers := []string{"+14155550701", "+14155550702"}
	h := newHookReceiver(t, 0)
	p := webhookProvider(t, "hookp", h, nil)
	for _, n := range numbers {
		putZoomNumber(t, "zoom-acme", n, "")
	}
	requestRelease(t, p, "acme", numbers...)
	acme := customer(t, "acme")
	approve(t, acme, numbers...)
	want := map[string]numberDetail{}
	for _, n := range numbers {
		want[n] = acme.waitStatus(n, "RELEASED", settle())
	}
	// Every history entry of both numbers arrives.
	evs := h.waitFor(2*settle(), "every history entry", func(evs []hookEvent) bool {
		for n, d := range want {
			for _, e := range d.History {
				if !hasChange(evs, n, e.Version) {
					return false
				}
			}
		}
		return true
	})
	ids := map[string]string{}
	for _, ev := range evs {
		d, ok := want[ev.Data.Number]
		if !ok {
			t.Fatalf("event for a number not asked for: %+v", ev)
		}
		e := d.History[ev.Data.Version-1]
		if ev.Type != "number."+strings.ToLower(e.To) || ev.Data.Status != e.To || ev.Data.PreviousStatus != e.From ||
			ev.Data.CustomerID != "acme" || ev.Data.ProviderID != "hookp" || ev.Data.Message != e.Why ||
			ev.Data.RequestID == "" || ev.Data.At.IsZero() {
			t.Fatalf("event %+v does not match history entry %+v", ev, e)
		}
		key := fmt.Sprintf("%s/%d", ev.Data.Number, ev.Data.Version)
		if prev, ok := ids[key]; ok && prev != ev.ID {
			t.Fatalf("change %s came under two webhook-ids: %s, %s", key, prev, ev.ID)
		}
		ids[key] = ev.ID
	}

	// GET shows the registration without its secret, and the deliveries.
	var st struct {
		URL        string           `json:"url"`
		Secret     *string          `json:"secret"`
		Deliveries []map[string]any `json:"deliveries"`
	}
	if code := p.do("GET", "/provider/v1/webhook", nil, &st); code != http.StatusOK || st.Secret != nil || len(st.Deliveries) == 0 {
		t.Fatalf("GET webhook: %d %+v", code, st)
	}
}

func hasChange(evs []hookEvent, number string, version int) bool {
	for _, ev := range evs {
		if ev.Data.Number == number && ev.Data.Version == version {
			return true
		}
	}
	return false
}

// A receiver that answers 500 twice gets the event on the third attempt,
// with the same webhook-id (the local backoff is seconds; production's
// spans more than a day), and GET shows the three attempts.
func TestWebhookRetriesUntilDelivered(t *testing.T) {
	if stack == nil {
		t.Skip("the receiver runs on this machine, beside the in-process system")
	}
	const n = "+14155550703"
	h := newHookReceiver(t, 2)
	p := webhookProvider(t, "hookr", h, []string{"number.pending_approval"})
	putZoomNumber(t, "zoom-acme", n, "")
	requestRelease(t, p, "acme", n)
	evs := h.waitFor(time.Minute, "the request's event", func(evs []hookEvent) bool { return hasChange(evs, n, 1) })
	_, _, attempts := h.snapshot()
	if got := attempts[evs[0].ID]; got != 3 {
		t.Fatalf("event %s arrived after %d attempts; want 3", evs[0].ID, got)
	}
	var st struct {
		Deliveries []struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			Number     string `json:"number"`
			Attempt    int    `json:"attempt"`
			StatusCode int    `json:"status_code"`
			Succeeded  bool   `json:"succeeded"`
		} `json:"deliveries"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code := p.do("GET", "/provider/v1/webhook", nil, &st); code != http.StatusOK {
			t.Fatalf("GET webhook: %d", code)
		}
		if len(st.Deliveries) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(st.Deliveries) != 3 {
		t.Fatalf("deliveries %+v; want 3 attempts", st.Deliveries)
	}
	for i, d := range st.Deliveries { // newest first
		wantAttempt, wantCode := 3-i, http.StatusInternalServerError
		if i == 0 {
			wantCode = http.StatusNoContent
		}
		if d.ID != evs[0].ID || d.Attempt != wantAttempt || d.StatusCode != wantCode || d.Succeeded != (i == 0) ||
			d.Type != "number.pending_approval" || d.Number != n {
			t.Fatalf("delivery %d is %+v; want attempt %d answered %d", i, d, wantAttempt, wantCode)
		}
	}
	// Withdraw the request: its CANCELLED event is filtered out.
	if code := p.do("DELETE", "/provider/v1/customers/acme/numbers/"+n+"/release-request", nil, nil); code != http.StatusOK {
		t.Fatalf("cancel: %d", code)
	}
}

// The test event, registration checks, rotation and removal.
func TestWebhookTestEventAndRegistration(t *testing.T) {
	if stack == nil {
		t.Skip("the receiver runs on this machine, beside the in-process system")
	}
	h := newHookReceiver(t, 0)
	p := webhookProvider(t, "hookt", h, nil)

	var res struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Succeeded  bool   `json:"succeeded"`
		StatusCode int    `json:"status_code"`
	}
	if st := p.do("POST", "/provider/v1/webhook/test", nil, &res); st != http.StatusOK || !res.Succeeded ||
		res.StatusCode != http.StatusNoContent || res.Type != "webhook.test" {
		t.Fatalf("test event: %d %+v", st, res)
	}
	evs, bad, _ := h.snapshot()
	if len(bad) > 0 || len(evs) != 1 || evs[0].Type != "webhook.test" || evs[0].ID != res.ID {
		t.Fatalf("receiver got %+v (bad %v)", evs, bad)
	}

	// A second PUT rotates the secret: the old one no longer verifies.
	var reg struct {
		Secret string `json:"secret"`
	}
	if st := p.do("PUT", "/provider/v1/webhook", map[string]any{"url": h.srv.URL + "/v2"}, &reg); st != http.StatusOK {
		t.Fatalf("PUT again: %d", st)
	}
	if st := p.do("POST", "/provider/v1/webhook/test", nil, &res); st != http.StatusOK || res.Succeeded || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("test signed with the new secret, checked with the old: %d %+v", st, res)
	}
	h.mu.Lock()
	h.bad = nil
	h.mu.Unlock()
	h.setSecret(reg.Secret)
	if st := p.do("POST", "/provider/v1/webhook/test", nil, &res); st != http.StatusOK || !res.Succeeded {
		t.Fatalf("test with the new secret: %d %+v", st, res)
	}

	for _, tc := range []struct{ url, why string }{
		{"https://10.0.0.1/hook", "private"},
		{"https://169.254.169.254/latest/meta-data/", "link-local"},
		{"https://[::1]/hook", "loopback"},
		{"https://user:pw@example.com/hook", "userinfo"},
		{"http://example.com/hook", "https"},
	} {
		var prob struct {
			Detail string `json:"detail"`
		}
		if st := p.do("PUT", "/provider/v1/webhook", map[string]any{"url": tc.url}, &prob); st != http.StatusBadRequest || !strings.Contains(prob.Detail, tc.why) {
			t.Errorf("PUT %s: %d %q; want 400 naming %q", tc.url, st, prob.Detail, tc.why)
		}
	}

	if st := p.do("DELETE", "/provider/v1/webhook", nil, nil); st != http.StatusNoContent {
		t.Fatalf("DELETE: %d", st)
	}
	if st := p.do("GET", "/provider/v1/webhook", nil, nil); st != http.StatusNotFound {
		t.Fatalf("GET after DELETE: %d", st)
	}
	if st := p.do("POST", "/provider/v1/webhook/test", nil, nil); st != http.StatusNotFound {
		t.Fatalf("test after DELETE: %d", st)
	}
}
