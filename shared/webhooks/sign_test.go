package webhooks

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// The Standard Webhooks reference vector, as its reference libraries test
// it: a receiver's library verifies what we sign only if this matches.
func TestSignReferenceVector(t *testing.T) {
	key, err := DecodeSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	body := []byte(`{"test": 2432232314}`)
	if got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body); got != want {
		t.Fatalf("Sign = %s; want %s", got, want)
	}
	if !Verify(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, "v1,bm9wZQ== "+want) {
		t.Fatal("Verify refused the reference signature among others")
	}
	for name, tc := range map[string]struct {
		id   string
		ts   int64
		body string
	}{
		"other id":        {"msg_other", 1614265330, `{"test": 2432232314}`},
		"other timestamp": {"msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, `{"test": 2432232314}`},
		"other body":      {"msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, `{"test": 2432232315}`},
	} {
		if Verify(key, tc.id, tc.ts, []byte(tc.body), want) {
			t.Errorf("%s: Verify accepted the reference signature", name)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secret %q lacks whsec_", a)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret %q is not the base64 of 32 bytes (%d, %v)", a, len(raw), err)
	}
	key, err := DecodeSecret(a)
	if err != nil || string(key) != string(raw) {
		t.Fatalf("DecodeSecret = %x, %v", key, err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!"} {
		if _, err := DecodeSecret(bad); err == nil {
			t.Errorf("DecodeSecret(%q) succeeded", bad)
		}
	}
}

func TestProductionBackoffCoversADay(t *testing.T) {
	b := ProductionBackoff()
	if span := b.Span(); span < 24*time.Hour {
		t.Fatalf("retries span %s; want at least 24 h", span)
	}
	prev := time.Duration(0)
	for n := 1; n < b.MaxAttempts; n++ {
		d := b.After(n)
		if d > MaxVisibility {
			t.Fatalf("wait after attempt %d is %s, over SQS's 12 h", n, d)
		}
		if d < prev {
			t.Fatalf("wait after attempt %d (%s) shrinks from %s", n, d, prev)
		}
		prev = d
	}
	if b.After(1) != time.Minute || b.After(2) != 2*time.Minute || b.After(20) != 8*time.Hour {
		t.Fatalf("schedule: %s, %s, %s", b.After(1), b.After(2), b.After(20))
	}
	if QueueRetention < b.Span()+24*time.Hour {
		t.Fatalf("the queue keeps messages %s; the retries take %s", QueueRetention, b.Span())
	}
}

func TestChangeMessageIDIsStable(t *testing.T) {
	d := testDetail("pxc", "RELEASED")
	a, err := ChangeMessage(d)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ChangeMessage(d)
	if a.ID != b.ID || string(a.Body) != string(b.Body) {
		t.Fatal("the same change gives two messages")
	}
	d.Version++
	c, _ := ChangeMessage(d)
	if c.ID == a.ID {
		t.Fatal("two changes share a webhook-id")
	}
	if a.Type != "number.released" {
		t.Fatalf("type %s", a.Type)
	}
}

func TestCheckEvents(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"number.released", "number.failed"}, ""},
		{[]string{"number.released", "number.nope"}, "events[1]: unknown event type"},
		{[]string{"number.failed", "number.failed"}, "events[1]: \"number.failed\" is listed twice"},
		{[]string{"webhook.test"}, "events[0]: unknown"},
	} {
		err := CheckEvents(tc.in)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckEvents(%v) = %v; want %q", tc.in, err, tc.want)
		}
	}
}
