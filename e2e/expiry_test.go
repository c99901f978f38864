package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/harness/devstack"
	"numberrelease/shared/harness/outbox"
)

// Expiry timings of the system this test starts for itself.
const (
	expiryTTL   = 20 * time.Second
	expiryEvery = time.Second
)

var expiryReminders = []time.Duration{10 * time.Second, 5 * time.Second}

// startExpiryStack starts a local system of the test's own, with a short
// time to live, and points the suite's helpers (call, tokenFor, ...) at it
// until the test ends. The suite's shared system keeps the default 30
// days: its other tests leave numbers PENDING_APPROVAL on purpose, and a
// 20-second time to live there would expire them under those tests. The
// suite's tests run one at a time (none calls t.Parallel), so pointing the
// helpers elsewhere for this test's length is safe.
func startExpiryStack(t *testing.T) *devstack.Stack {
	t.Helper()
	cfg := devstack.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.ExpiryEvery, cfg.ExpiryTTL, cfg.ExpiryReminders = expiryEvery, expiryTTL, expiryReminders
	logFile, err := os.CreateTemp("", "e2e-expiry-*.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = logFile.Close()
		if !t.Failed() {
			_ = os.Remove(logFile.Name())
		} else {
			t.Logf("the expiry system's log: %s", logFile.Name())
		}
	})
	cfg.Log = slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := devstack.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the expiry system: %v", err)
	}
	shared := base
	base = s.URL
	t.Cleanup(func() {
		base = shared
		if err := s.Close(); err != nil {
			t.Errorf("stop the expiry system: %v", err)
		}
	})
	return s
}

func readOutbox(t *testing.T) []outbox.Message {
	t.Helper()
	resp, err := http.Get(base + "/local/outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var msgs []outbox.Message
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &msgs) != nil {
		t.Fatalf("GET /local/outbox: %d %s", resp.StatusCode, raw)
	}
	return msgs
}

// A request nobody acts on: the customer's contacts are reminded before
// its time to live ends, then it expires to EXPIRED, the contacts get the
// notice, the provider's webhook gets number.expired, and the provider may
// ask again.
func TestUnansweredRequestExpires(t *testing.T) {
	if stack == nil {
		t.Skip("the test starts a local system of its own, beside the in-process one")
	}
	startExpiryStack(t)
	const n, providerID, contact = "+14155550801", "pxc-expiry", "ops@acme.example"
	olive := tokenFor(t, `{"kind":"operator","sub":"olive"}`)
	if st := olive.do("PUT", "/admin/v1/customers/acme", map[string]any{"name": "Acme Corp", "zoom_account_id": "zoom-acme",
		"contact_emails": []string{contact}}, nil); st != http.StatusOK {
		t.Fatalf("PUT acme's contact emails: %d", st)
	}
	hooks := newHookReceiver(t, 0)
	p := webhookProvider(t, providerID, hooks, nil)
	requestRelease(t, p, "acme", n)
	asked := time.Now()

	// Ten times the time to live plus a sweep.
	deadline := 10 * (expiryTTL + expiryEvery)
	d := customer(t, "acme").waitStatus(n, "EXPIRED", deadline)
	if took := time.Since(asked); took < expiryTTL-time.Second {
		t.Errorf("%s expired %s after it was asked for; the time to live is %s", n, took, expiryTTL)
	}
	last := d.History[len(d.History)-1]
	if last.From != "PENDING_APPROVAL" || last.To != "EXPIRED" || last.Actor != "expiry" || !strings.Contains(last.Why, "within 20s") {
		t.Errorf("expiry history entry = %+v", last)
	}
	hooks.waitFor(deadline, "number.expired of "+n, func(evs []hookEvent) bool {
		for _, ev := range evs {
			if ev.Type == "number.expired" && ev.Data.Number == n && ev.Data.Status == "EXPIRED" && ev.Data.PreviousStatus == "PENDING_APPROVAL" {
				return true
			}
		}
		return false
	})

	// The outbox: one or two reminders (two sweeps may fall between the
	// reminder times or not), then the notice; all to acme's contact. The
	// sweep mails after its writes, so the notice may follow the status.
	var reminders, notices int
	for wait := time.Now().Add(deadline); ; time.Sleep(200 * time.Millisecond) {
		reminders, notices = 0, 0
		for _, m := range readOutbox(t) {
			if !strings.Contains(m.Subject, providerID) {
				continue // the demo's own requests expire too
			}
			if len(m.To) != 1 || m.To[0] != contact || !strings.Contains(m.Body, n) {
				t.Fatalf("email %+v: want one to %s naming %s", m, contact, n)
			}
			switch {
			case strings.Contains(m.Subject, "awaits your approval"):
				reminders++
				if notices > 0 {
					t.Fatalf("a reminder after the expiry notice: %+v", m)
				}
				if !strings.Contains(m.Body, "1 number asked for by "+providerID+" awaits your approval; it expires on") {
					t.Fatalf("reminder body %q", m.Body)
				}
			case strings.Contains(m.Subject, "expired"):
				notices++
			default:
				t.Fatalf("unexpected email %+v", m)
			}
		}
		if notices > 0 || time.Now().After(wait) {
			break
		}
	}
	if reminders < 1 || reminders > len(expiryReminders) || notices != 1 {
		t.Errorf("outbox has %d reminders and %d expiry notices for %s; want 1 to %d, and 1", reminders, notices, providerID, len(expiryReminders))
	}

	// The provider may ask again.
	requestRelease(t, p, "acme", n)
	if d := customer(t, "acme").number(n); d.Status != "PENDING_APPROVAL" {
		t.Errorf("asked again: %s is %s", n, d.Status)
	}
}
