package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/domain"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/httpapi"
)

// together sends the requests at the same moment (as far as goroutines
// allow) and returns their answers in order.
func (e *env) together(t *testing.T, reqs ...func() (response, error)) []response {
	t.Helper()
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Go(func() {
			<-start
			out[i], errs[i] = req()
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func (e *env) createWithKey(key string, body any) func() (response, error) {
	return func() (response, error) {
		return e.send("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", key)
	}
}

// TestIdempotencyKeyRace sends two requests with one key and different
// bodies at once, 50 times: each time exactly one body is written and the
// other request is refused without writing anything.
func TestIdempotencyKeyRace(t *testing.T) {
	e := newMotoEnv(t)
	const iterations = 50
	ctx := context.Background()
	for i := range iterations {
		key := fmt.Sprintf("race-%d", i)
		nums := []string{fmt.Sprintf("+1415555%04d", 2*i), fmt.Sprintf("+1415555%04d", 2*i+1)}
		rs := e.together(t,
			e.createWithKey(key, map[string]any{"customer_id": "acme", "numbers": nums[:1]}),
			e.createWithKey(key, map[string]any{"customer_id": "acme", "numbers": nums[1:]}))
		winner := -1
		for j, r := range rs {
			switch {
			case r.status == http.StatusCreated && winner < 0:
				winner = j
			case r.status == http.StatusUnprocessableEntity && r.json(t)["code"] == "idempotency_mismatch",
				r.status == http.StatusConflict && r.json(t)["code"] == "idempotency_in_progress":
			default:
				t.Fatalf("iteration %d: answers %d %s and %d %s; want one 201 and one 422/409", i, rs[0].status, rs[0].body, rs[1].status, rs[1].body)
			}
		}
		if winner < 0 {
			t.Fatalf("iteration %d: neither request succeeded: %s | %s", i, rs[0].body, rs[1].body)
		}
		for j, n := range nums {
			_, err := e.store.GetNumber(ctx, "acme", n)
			switch {
			case j == winner && err != nil:
				t.Fatalf("iteration %d: the answered request's number %s was not written: %v", i, n, err)
			case j != winner && err == nil:
				t.Fatalf("iteration %d: the refused request (%d %s) wrote %s", i, rs[j].status, rs[j].body, n)
			}
		}
	}
	page, err := e.store.ListNumbers(ctx, domain.ListQuery{CustomerID: "acme", ProviderID: "pxc", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != iterations {
		t.Fatalf("the provider has %d numbers at acme; want %d (one body per key)", len(page.Items), iterations)
	}
}

// TestIdempotencyKeySameBodyTogether sends one request twice at once: the
// work is done once and both callers get its answer.
func TestIdempotencyKeySameBodyTogether(t *testing.T) {
	e := newMotoEnv(t)
	for i := range 10 {
		key := fmt.Sprintf("twice-%d", i)
		body := map[string]any{"customer_id": "acme", "numbers": []string{fmt.Sprintf("+1415555%04d", i)}}
		rs := e.together(t, e.createWithKey(key, body), e.createWithKey(key, body))
		for _, r := range rs {
			e.want(r, http.StatusCreated, "")
		}
		if !bytes.Equal(rs[0].body, rs[1].body) {
			t.Fatalf("iteration %d: the two answers differ:\n%s\n%s", i, rs[0].body, rs[1].body)
		}
		if replayed := rs[0].header.Get("Idempotent-Replayed") + rs[1].header.Get("Idempotent-Replayed"); replayed != "true" {
			t.Fatalf("iteration %d: Idempotent-Replayed headers %q; want exactly one replay", i, replayed)
		}
	}
}

// TestReplayChecksTheLinkFirst: a stored answer is only replayed to a
// provider that may still act for the body's customer.
func TestReplayChecksTheLinkFirst(t *testing.T) {
	st := storetest.New()
	e := newEnvOn(t, st)
	body := map[string]any{"customer_id": "acme", "numbers": []string{"+97239754571"}}
	e.want(e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "k-link"), http.StatusCreated, "")
	if err := st.Unlink(context.Background(), "pxc", "acme"); err != nil {
		t.Fatal(err)
	}
	r := e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "k-link")
	e.want(r, http.StatusNotFound, "not_found")
	if bytes.Contains(r.body, []byte("97239754571")) {
		t.Fatalf("the refusal carries the stored answer: %s", r.body)
	}
}

// TestIdempotencyKeyHeldByAnotherRequest: what a request meets when its key
// is reserved by a request still at work (on this or another instance).
func TestIdempotencyKeyHeldByAnotherRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	body := `{"customer_id":"acme","numbers":["+97239754571"]}`
	hash := httpapi.BodyHash([]byte(body))

	t.Run("same body, still in progress after the wait: 409 with Retry-After", func(t *testing.T) {
		e.t = t
		httpapi.SetIdempotencyWait(t, 50*time.Millisecond, 10*time.Millisecond)
		if _, ok, err := e.store.ReserveIdempotency(ctx, "pxc", "held-1", hash, time.Minute); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		before := e.snapshot("acme")
		r := e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "held-1")
		e.want(r, http.StatusConflict, "idempotency_in_progress")
		if ra := r.header.Get("Retry-After"); ra != "1" {
			t.Fatalf("Retry-After %q; want 1 (the wait, in whole seconds, at least 1)", ra)
		}
		if after := e.snapshot("acme"); after != before {
			t.Fatalf("the duplicate wrote: %s → %s", before, after)
		}
	})
	t.Run("other body while in progress: 422 at once", func(t *testing.T) {
		e.t = t
		if _, ok, err := e.store.ReserveIdempotency(ctx, "pxc", "held-2", hash, time.Minute); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		before := e.snapshot("acme")
		r := e.call("POST", "/provider/v1/release-requests", "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+97239754569"}}, "Idempotency-Key", "held-2")
		e.want(r, http.StatusUnprocessableEntity, "idempotency_mismatch")
		if after := e.snapshot("acme"); after != before {
			t.Fatalf("the mismatched request wrote: %s → %s", before, after)
		}
	})
	t.Run("same body, the holder finishes: its answer", func(t *testing.T) {
		e.t = t
		httpapi.SetIdempotencyWait(t, time.Minute, 10*time.Millisecond)
		res, ok, err := e.store.ReserveIdempotency(ctx, "pxc", "held-3", hash, time.Minute)
		if err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		answer := []byte(`{"request_id":"from-the-holder","numbers":[{"number":"+97239754571","status":"PENDING_APPROVAL","request_id":"from-the-holder"}]}`)
		done := make(chan response)
		go func() {
			r, err := e.send("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "held-3")
			if err != nil {
				t.Error(err)
			}
			done <- r
		}()
		if err := e.store.CompleteIdempotency(ctx, res, http.StatusCreated, answer); err != nil {
			t.Fatal(err)
		}
		r := <-done
		e.want(r, http.StatusCreated, "")
		if !bytes.Equal(r.body, answer) || r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("answer %s (replayed %q); want the holder's", r.body, r.header.Get("Idempotent-Replayed"))
		}
	})
	t.Run("a holder that died: its lease ends and the request is done", func(t *testing.T) {
		e.t = t
		// A reservation whose lease has already run out, as a crashed
		// request leaves it.
		if _, ok, err := e.store.ReserveIdempotency(ctx, "pxc", "held-4", hash, -time.Minute); err != nil || !ok {
			t.Fatalf("reserve: %v %v", ok, err)
		}
		r := e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "held-4")
		e.want(r, http.StatusCreated, "")
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a dead reservation was replayed")
		}
		again := e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "held-4")
		if !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the taken-over key does not replay its answer: %s vs %s", again.body, r.body)
		}
	})
}

// TestRefusedRequestFreesItsKey: a request refused with 4xx wrote nothing
// and remembers nothing, so its key can be sent again with a fixed body.
func TestRefusedRequestFreesItsKey(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"invalid number", map[string]any{"customer_id": "acme", "numbers": []string{"12ab"}}, http.StatusBadRequest, "invalid_numbers"},
		{"reason too long", map[string]any{"customer_id": "acme", "numbers": []string{"+14155552671"}, "reason": strings.Repeat("r", 501)}, http.StatusBadRequest, "invalid_request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			key := fmt.Sprintf("fix-me-%d", i)
			e.want(e.call("POST", "/provider/v1/release-requests", "pxc", tt.body, "Idempotency-Key", key), tt.status, tt.code)
			fixed := map[string]any{"customer_id": "acme", "numbers": []string{fmt.Sprintf("+1415555300%d", i)}}
			r := e.call("POST", "/provider/v1/release-requests", "pxc", fixed, "Idempotency-Key", key)
			e.want(r, http.StatusCreated, "")
			if r.header.Get("Idempotent-Replayed") != "" {
				t.Fatal("the fixed request was answered from a record")
			}
		})
	}
	// A conflict (the number is already released) frees the key too.
	e.t = t
	e.request("+97239754571")
	e.release(t, "+97239754571")
	body := map[string]any{"customer_id": "acme", "numbers": []string{"+97239754571"}}
	e.want(e.call("POST", "/provider/v1/release-requests", "pxc", body, "Idempotency-Key", "conflict"), http.StatusConflict, "conflict")
	r := e.call("POST", "/provider/v1/release-requests", "pxc", map[string]any{"customer_id": "acme", "numbers": []string{"+97239754569"}}, "Idempotency-Key", "conflict")
	e.want(r, http.StatusCreated, "")
}
