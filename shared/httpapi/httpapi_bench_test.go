package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/auth"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/localauth"
	"numberrelease/shared/harness/storetest"
	"numberrelease/shared/harness/workflowtest"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/number"
	"numberrelease/shared/release"
)

// These benchmarks measure the API's own CPU and allocations per request:
// the real handler (routing, JWT verification, decoding, the release
// service, encoding) over an in-memory store, so DynamoDB round trips (which
// dominate a real request, and on the emulator measure moto instead) are
// left out. The workflow is a recorder: no Step Functions call either.

// benchStore is the in-memory store (storetest): conditional writes
// check the version, status changes append history.
type benchStore struct{ *storetest.Store }

// seed puts count numbers of acme in PENDING_APPROVAL, as a provider's
// request leaves them.
func (m benchStore) seed(count int) []string {
	now := time.Now().UTC()
	nums := make([]string, count)
	for i := range nums {
		n := fmt.Sprintf("+1415555%04d", i)
		nums[i] = n
		m.Put(domain.Number{
			CustomerID: "acme", Number: n, Status: domain.PendingApproval, ProviderID: "pxc",
			RequestID: "req-bench", RequestedAt: now, UpdatedAt: now, Version: 1, Transitions: 1,
		})
	}
	return nums
}

// benchAPI is the real handler with a real JWT (local issuer, JWKS served
// over HTTP to the verifier) over benchStore.
func benchAPI(b *testing.B) (http.Handler, benchStore, *workflowtest.Recorder, string) {
	b.Helper()
	issuer, err := localauth.New("http://issuer.test/local", "number-release")
	if err != nil {
		b.Fatal(err)
	}
	jwks := httptest.NewServer(issuer.Handler())
	b.Cleanup(jwks.Close)
	verifier, err := auth.NewVerifier(auth.Config{JWKSURL: jwks.URL + issuer.JWKSPath(), Issuer: issuer.Issuer(), Audience: issuer.Audience()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(verifier.Close)
	tok, err := issuer.Issue(auth.Principal{Role: auth.RoleCustomerAdmin, TenantID: "acme", Subject: "alice"}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	st := benchStore{storetest.New()}
	if err := st.PutTenants(context.Background(), []domain.Customer{{ID: "acme", Name: "Acme", ZoomAccountID: "zoom-acme"}},
		[]domain.Link{{ProviderID: "pxc", CustomerID: "acme"}}); err != nil {
		b.Fatal(err)
	}
	rec := &workflowtest.Recorder{}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return httpapi.New(release.New(st, rec, log), verifier, st, log), st, rec, "Bearer " + tok
}

func serve(h http.Handler, method, target, token, body string) *httptest.ResponseRecorder {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// BenchmarkApprove500 approves the largest request (500 numbers pending
// approval): each number is read and moved to RELEASING with a history
// entry; the approval starts no workflow (the starter does, from the
// table's stream). The store is re-seeded outside the timer.
func BenchmarkApprove500(b *testing.B) {
	h, st, rec, token := benchAPI(b)
	nums := st.seed(number.MaxPerRequest)
	raw, err := json.Marshal(map[string]any{"numbers": nums})
	if err != nil {
		b.Fatal(err)
	}
	body := string(raw)
	// One warm-up request fetches the JWKS outside the measurement.
	if w := serve(h, "POST", "/v1/numbers/release", token, body); w.Code != http.StatusAccepted {
		b.Fatalf("approve: %d %s", w.Code, w.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st.seed(number.MaxPerRequest)
		rec.Starts = nil
		b.StartTimer()
		w := serve(h, "POST", "/v1/numbers/release", token, body)
		if w.Code != http.StatusAccepted {
			b.Fatalf("approve: %d %s", w.Code, w.Body)
		}
	}
	b.StopTimer()
	if got := len(rec.Started()); got != 0 {
		b.Fatalf("%d workflow starts by the approval; want none (the starter starts them from the stream)", got)
	}
	for _, n := range nums {
		if got, err := st.GetNumber(context.Background(), "acme", n); err != nil || got.Status != domain.Releasing {
			b.Fatalf("%s after the approval: %s, %v; want RELEASING", n, got.Status, err)
		}
	}
	var out struct {
		Results []release.Result `json:"results"`
	}
	w := serve(h, "POST", "/v1/numbers/release", token, body) // already RELEASING: harmless
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Results) != number.MaxPerRequest || out.Results[0].Status != string(domain.Releasing) {
		b.Fatalf("answer %.300s: %v", w.Body, err)
	}
}

// BenchmarkListPage100 reads one full page (100) of the Wait for Release
// tab from 500 pending numbers.
func BenchmarkListPage100(b *testing.B) {
	h, st, _, token := benchAPI(b)
	st.seed(number.MaxPerRequest)
	const target = "/v1/numbers?status=PENDING_APPROVAL&limit=100"
	check := func(w *httptest.ResponseRecorder) {
		if w.Code != http.StatusOK {
			b.Fatalf("list: %d %s", w.Code, w.Body)
		}
	}
	check(serve(h, "GET", target, token, "")) // warm-up: JWKS fetch
	b.ReportAllocs()
	for b.Loop() {
		check(serve(h, "GET", target, token, ""))
	}
	b.StopTimer()
	var out struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	w := serve(h, "GET", target, token, "")
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Items) != 100 || out.NextCursor == nil {
		b.Fatalf("page %.300s: %v", w.Body, err)
	}
}
