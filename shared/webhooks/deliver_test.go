package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"numberrelease/shared/apperr"
	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/notify"
)

// receiver is a webhook endpoint that checks every signature with the
// secret it is given and answers with the codes queued (then 204).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	key    []byte
	codes  []int
	got    []received
	badSig int
}

type received struct {
	id, ts string
	body   Payload
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || !Verify(r.key, id, sec, body, req.Header.Get("webhook-signature")) {
			r.badSig++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p Payload
		if err := json.Unmarshal(body, &p); err != nil {
			r.t.Errorf("body %s: %v", body, err)
		}
		r.got = append(r.got, received{id: id, ts: ts, body: p})
		code := http.StatusNoContent
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) answer(codes ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = codes
}

// seen returns what was received and how many signatures were bad.
func (r *receiver) seen() ([]received, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...), r.badSig
}

func (r *receiver) setSecret(secret string) {
	key, err := DecodeSecret(secret)
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.key = key
	r.mu.Unlock()
}

type fixture struct {
	svc   *Service
	del   *Deliverer
	queue *fakeQueue
}

func newFixture(t *testing.T) fixture {
	client, tbl := emulatortest.NewTable(t)
	store := &Registrations{DB: client, Table: tbl}
	box := &SecretBox{KMS: &fakeKMS{}, KeyID: "alias/test"}
	policy := Policy{Local: true}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	q := &fakeQueue{}
	return fixture{
		svc:   &Service{Store: store, Box: box, Policy: policy, Sender: NewSender(policy), Log: log},
		del:   &Deliverer{Store: store, Box: box, Sender: NewSender(policy), Queue: q, QueueURL: "q", Backoff: ProductionBackoff(), Log: log},
		queue: q,
	}
}

// record is the SQS message EventBridge's rule puts on the delivery queue.
func record(t *testing.T, id string, receives int, d notify.Detail) events.SQSMessage {
	detail, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"version": "0", "id": "ev-" + id, "source": notify.Source,
		"detail-type": notify.DetailType, "time": "2026-12-01T10:00:00Z", "detail": json.RawMessage(detail)})
	return events.SQSMessage{MessageId: id, ReceiptHandle: "rh-" + id, Body: string(body),
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receives)}}
}

func TestDeliverer(t *testing.T) {
	emulatortest.SkipShort(t)
	ctx := context.Background()
	f := newFixture(t)
	rcv := newReceiver(t)
	v, err := f.svc.Put(ctx, "pxc", rcv.srv.URL+"/hook", []string{"number.released", "number.failed"})
	if err != nil {
		t.Fatal(err)
	}
	rcv.setSecret(v.Secret)
	// Another provider's webhook gets nothing of pxc's.
	other := newReceiver(t)
	ov, err := f.svc.Put(ctx, "other", other.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	other.setSecret(ov.Secret)

	rcv.answer(http.StatusInternalServerError)
	resp, err := f.del.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{
		record(t, "m1", 1, testDetail("pxc", "RELEASED")),    // 500: retried
		record(t, "m2", 1, testDetail("pxc", "RELEASING")),   // filtered out
		record(t, "m3", 1, testDetail("nobody", "RELEASED")), // no webhook
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Fatalf("failures %+v; want m1 only", resp.BatchItemFailures)
	}
	if got := f.queue.timeout["rh-m1"]; got != 60 {
		t.Fatalf("m1 visible again in %d s; want 60 (the first backoff)", got)
	}

	// The third receive succeeds, with the same webhook-id.
	resp, _ = f.del.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{record(t, "m1", 3, testDetail("pxc", "RELEASED"))}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	got, bad := rcv.seen()
	if len(got) != 2 || got[0].id != got[1].id || bad != 0 {
		t.Fatalf("receiver got %+v (bad signatures %d); want the same event twice", got, bad)
	}
	if og, _ := other.seen(); len(og) != 0 {
		t.Fatalf("another provider's webhook got %+v", og)
	}
	p := got[1].body
	data, _ := json.Marshal(p.Data)
	if p.Type != "number.released" || !strings.Contains(string(data), `"status":"RELEASED"`) ||
		!strings.Contains(string(data), `"previous_status":"RELEASING"`) || !strings.Contains(string(data), `"customer_id":"acme"`) ||
		!strings.Contains(string(data), `"request_id":"rr_1"`) {
		t.Fatalf("payload %s %s", p.Type, data)
	}

	// The last attempt fails: reported, and visible at once so the
	// redrive policy moves it to the dead-letter queue.
	rcv.answer(http.StatusBadGateway)
	last := ProductionBackoff().MaxAttempts
	resp, _ = f.del.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{record(t, "m4", last, testDetail("pxc", "FAILED"))}})
	if len(resp.BatchItemFailures) != 1 || f.queue.timeout["rh-m4"] != 0 {
		t.Fatalf("last attempt: failures %+v, visibility %d", resp.BatchItemFailures, f.queue.timeout["rh-m4"])
	}

	st, err := f.svc.Get(ctx, "pxc")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Deliveries) != 3 || st.Deliveries[0].StatusCode != http.StatusBadGateway || st.Deliveries[0].Attempt != last ||
		st.Deliveries[1].Attempt != 3 || !st.Deliveries[1].Succeeded || st.Deliveries[2].StatusCode != 500 {
		t.Fatalf("deliveries %+v", st.Deliveries)
	}
	raw, _ := json.Marshal(st)
	if strings.Contains(string(raw), "whsec_") || strings.Contains(string(raw), v.Secret[6:]) {
		t.Fatalf("GET shows the secret: %s", raw)
	}
}

func TestServiceRegistration(t *testing.T) {
	emulatortest.SkipShort(t)
	ctx := context.Background()
	f := newFixture(t)
	rcv := newReceiver(t)

	if _, err := f.svc.Test(ctx, "pxc"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("test without a webhook: %v", err)
	}
	for _, bad := range []struct{ url, want string }{
		{"", "url: required"},
		{"https://10.0.0.1/x", "url: 10.0.0.1 is not a public address"},
		{"http://hooks.example.com/x", "url: must use https"},
	} {
		if _, err := f.svc.Put(ctx, "pxc", bad.url, nil); apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("Put(%q) = %v; want %q", bad.url, err, bad.want)
		}
	}
	if _, err := f.svc.Put(ctx, "pxc", rcv.srv.URL, []string{"number.gone"}); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("unknown event type: %v", err)
	}

	first, err := f.svc.Put(ctx, "pxc", rcv.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != len(EventTypes) {
		t.Fatalf("default events %v", first.Events)
	}
	second, err := f.svc.Put(ctx, "pxc", rcv.srv.URL+"/v2", []string{"number.released"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Secret == first.Secret {
		t.Fatal("a second PUT did not rotate the secret")
	}
	// Signed with the new secret only.
	rcv.setSecret(second.Secret)
	res, err := f.svc.Test(ctx, "pxc")
	if err != nil {
		t.Fatal(err)
	}
	got, bad := rcv.seen()
	if !res.Succeeded || res.StatusCode != http.StatusNoContent || res.Type != TypeTest || bad != 0 || len(got) != 1 {
		t.Fatalf("test delivery %+v; receiver %+v, bad signatures %d", res, got, bad)
	}
	if got[0].body.Type != TypeTest {
		t.Fatalf("test payload %+v", got[0].body)
	}
	st, err := f.svc.Get(ctx, "pxc")
	if err != nil {
		t.Fatal(err)
	}
	if st.URL != rcv.srv.URL+"/v2" || len(st.Events) != 1 || len(st.Deliveries) != 1 || st.Deliveries[0].Type != TypeTest {
		t.Fatalf("status %+v", st)
	}
	// The sealed secret opens for its provider only.
	reg, _, _ := f.svc.Store.Get(ctx, "pxc")
	if strings.Contains(string(reg.Sealed), second.Secret[6:]) {
		t.Fatal("the secret is stored in the clear")
	}
	if _, err := f.svc.Box.Open(ctx, "other", reg.Sealed); err == nil {
		t.Fatal("pxc's sealed secret opened for another provider")
	}

	if err := f.svc.Delete(ctx, "pxc"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Delete(ctx, "pxc"); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := f.svc.Get(ctx, "pxc"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("get after delete: %v", err)
	}
	// A change after the delete is not delivered, and not retried.
	resp, _ := f.del.HandleSQS(ctx, events.SQSEvent{Records: []events.SQSMessage{record(t, "m1", 1, testDetail("pxc", "RELEASED"))}})
	if got, _ := rcv.seen(); len(resp.BatchItemFailures) != 0 || len(got) != 1 {
		t.Fatalf("after delete: failures %+v, received %d", resp.BatchItemFailures, len(got))
	}
}

// A receiver that does not answer within DeliveryTimeout fails the
// attempt (it is then retried).
func TestDeliveryTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 10 s delivery timeout")
	}
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	start := time.Now()
	res := NewSender(Policy{Local: true}).Send(context.Background(), srv.URL, []byte("k"), "msg_1", []byte(`{}`))
	if res.OK() || !strings.Contains(res.Error, "no answer within 10s") {
		t.Fatalf("Send = %+v", res)
	}
	if took := time.Since(start); took < DeliveryTimeout {
		t.Fatalf("gave up after %s, before the timeout", took)
	}
}
