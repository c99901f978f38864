package outbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestOutboxKeepsAndServesMessages(t *testing.T) {
	at := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	o := &Outbox{Now: func() time.Time { return at }}
	srv := httptest.NewServer(o.Handler())
	defer srv.Close()
	read := func() []Message {
		t.Helper()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []Message
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("decode outbox: %v (%s)", err, resp.Header.Get("Content-Type"))
		}
		return out
	}
	if got := read(); got == nil || len(got) != 0 {
		t.Fatalf("empty outbox = %#v; want []", got)
	}
	if err := o.Send(context.Background(), nil, "s", "b"); err == nil {
		t.Fatal("a message with no recipients was kept")
	}
	for _, subject := range []string{"first", "second"} {
		if err := o.Send(context.Background(), []string{"ops@acme.example"}, subject, "body of "+subject); err != nil {
			t.Fatal(err)
		}
	}
	got := read()
	if len(got) != 2 || got[0].Subject != "first" || got[1].Body != "body of second" || got[0].To[0] != "ops@acme.example" || !got[0].SentAt.Equal(at) {
		t.Fatalf("outbox = %+v", got)
	}
}
