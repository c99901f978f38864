package httpapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/auth"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/number"
	"numberrelease/shared/release"
	"numberrelease/shared/store"
	"numberrelease/shared/workflow/workflowtest"
)

// These benchmarks measure the API's own CPU and allocations per request:
// the real handler (routing, JWT verification, decoding, the release
// service, encoding) over an in-memory store, so DynamoDB round trips (which
// dominate a real request, and on the emulator measure moto instead) are
// left out. The workflow is a recorder: no Step Functions call either.

// benchStore is a minimal in-memory release.Store and
// httpapi.IdempotencyStore: conditional writes check the version, status
// changes append history.
type benchStore struct {
	mu      sync.Mutex
	numbers map[string]store.Number // customer + number
	history map[string][]store.HistoryEntry
	idem    map[string]store.Idempotency
}

var (
	_ release.Store            = (*benchStore)(nil)
	_ httpapi.IdempotencyStore = (*benchStore)(nil)
)

func newBenchStore() *benchStore {
	return &benchStore{numbers: map[string]store.Number{}, history: map[string][]store.HistoryEntry{}, idem: map[string]store.Idempotency{}}
}

func (m *benchStore) GetNumber(_ context.Context, c, n string) (store.Number, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	got, ok := m.numbers[c+n]
	if !ok {
		return store.Number{}, store.ErrNotFound
	}
	return got, nil
}

func (m *benchStore) GetNumbers(_ context.Context, c string, ns []string) (map[string]store.Number, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]store.Number, len(ns))
	for _, n := range ns {
		if got, ok := m.numbers[c+n]; ok {
			out[n] = got
		}
	}
	return out, nil
}

func (m *benchStore) Apply(_ context.Context, ch store.Change) (store.Number, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := ch.Next.CustomerID + ch.Next.Number
	cur, exists := m.numbers[key]
	if ch.Prev.Version == 0 && exists || ch.Prev.Version != 0 && (cur.Version != ch.Prev.Version || cur.Status != ch.Prev.Status) {
		return store.Number{}, &store.ConflictError{Numbers: []string{ch.Next.Number}}
	}
	statusChange := ch.Prev.Status != ch.Next.Status || ch.Prev.Version == 0
	if statusChange && !number.CanTransition(ch.Prev.Status, ch.Next.Status) {
		return store.Number{}, fmt.Errorf("change of %s: %q → %q is not an allowed transition", ch.Next.Number, ch.Prev.Status, ch.Next.Status)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	next := ch.Next
	next.Version = ch.Prev.Version + 1
	next.UpdatedAt = now
	if ch.Prev.Version == 0 && next.RequestedAt.IsZero() {
		next.RequestedAt = now
	}
	m.numbers[key] = next
	if statusChange {
		m.history[key] = append(m.history[key], store.HistoryEntry{
			CustomerID: next.CustomerID, Number: next.Number, ProviderID: next.ProviderID, Version: next.Version,
			At: now, Actor: ch.Actor, From: ch.Prev.Status, To: next.Status, Why: ch.Why, RequestID: next.RequestID,
		})
	}
	return next, nil
}

// ApplyAll is not all-or-nothing here; the benchmarked paths do not use it.
func (m *benchStore) ApplyAll(ctx context.Context, chs []store.Change) ([]store.Number, error) {
	out := make([]store.Number, 0, len(chs))
	for _, ch := range chs {
		n, err := m.Apply(ctx, ch)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (m *benchStore) ApplyEach(ctx context.Context, chs []store.Change) ([]store.Number, []error) {
	out, errs := make([]store.Number, len(chs)), make([]error, len(chs))
	for i, ch := range chs {
		out[i], errs[i] = m.Apply(ctx, ch)
	}
	return out, errs
}

func (m *benchStore) History(_ context.Context, c, n string) ([]store.HistoryEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.history[c+n]), nil
}

// ListNumbers returns the first Limit matching numbers in number order; the
// cursor is the last number of the previous page.
func (m *benchStore) ListNumbers(_ context.Context, q store.ListQuery) (store.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var match []store.Number
	for _, n := range m.numbers {
		switch {
		case n.CustomerID != q.CustomerID,
			q.ProviderID != "" && n.ProviderID != q.ProviderID,
			q.Status == number.None && n.Status == number.Released,
			q.Status != number.None && n.Status != q.Status,
			q.Cursor != "" && n.Number <= q.Cursor:
			continue
		}
		match = append(match, n)
	}
	slices.SortFunc(match, func(a, b store.Number) int { return strings.Compare(a.Number, b.Number) })
	limit := q.Limit
	if limit <= 0 || limit > store.MaxPageSize {
		limit = store.MaxPageSize
	}
	page := store.Page{Items: match[:min(limit, len(match))]}
	if len(match) > limit {
		page.NextCursor = page.Items[len(page.Items)-1].Number
	}
	return page, nil
}

func (m *benchStore) IsLinked(_ context.Context, p, c string) (bool, error) {
	return p == "pxc" && c == "acme", nil
}

func (m *benchStore) CustomerByZoomAccount(_ context.Context, id string) (store.Customer, error) {
	if id == "zoom-acme" {
		return store.Customer{ID: "acme", Name: "Acme", ZoomAccountID: id}, nil
	}
	return store.Customer{}, store.ErrNotFound
}

func (m *benchStore) ReserveIdempotency(_ context.Context, scope, key, hash string, lease time.Duration) (store.Idempotency, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := scope + "\x00" + key
	if held, ok := m.idem[k]; ok && held.ExpiresAt.After(time.Now()) {
		return held, false, nil
	}
	res := store.Idempotency{Scope: scope, Key: key, BodyHash: hash, State: store.IdempotencyInProgress,
		Owner: rand.Text(), ExpiresAt: time.Now().Add(lease)}
	m.idem[k] = res
	return res, true, nil
}

func (m *benchStore) GetIdempotency(_ context.Context, scope, key string) (store.Idempotency, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.idem[scope+"\x00"+key]
	if !ok || !rec.ExpiresAt.After(time.Now()) {
		return store.Idempotency{}, store.ErrNotFound
	}
	return rec, nil
}

func (m *benchStore) CompleteIdempotency(_ context.Context, res store.Idempotency, status int, body []byte) error {
	return m.putOwned(res, func(rec *store.Idempotency) {
		rec.State, rec.Status, rec.Body, rec.ExpiresAt = store.IdempotencyCompleted, status, body, time.Now().Add(store.IdempotencyTTL)
	})
}

func (m *benchStore) ReleaseIdempotency(_ context.Context, res store.Idempotency) error {
	return m.putOwned(res, func(rec *store.Idempotency) { rec.ExpiresAt = time.Time{} })
}

func (m *benchStore) putOwned(res store.Idempotency, change func(*store.Idempotency)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := res.Scope + "\x00" + res.Key
	if m.idem[k].Owner != res.Owner {
		return store.ErrConflict
	}
	change(&res)
	m.idem[k] = res
	return nil
}

// seed puts count numbers of acme in PENDING_APPROVAL, as a provider's
// request leaves them.
func (m *benchStore) seed(count int) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.numbers)
	clear(m.history)
	now := time.Now().UTC()
	nums := make([]string, count)
	for i := range nums {
		n := fmt.Sprintf("+1415555%04d", i)
		nums[i] = n
		m.numbers["acme"+n] = store.Number{
			CustomerID: "acme", Number: n, Status: number.PendingApproval, ProviderID: "pxc",
			RequestID: "req-bench", RequestedAt: now, UpdatedAt: now, Version: 1,
		}
	}
	return nums
}

// benchAPI is the real handler with a real JWT (local issuer, JWKS served
// over HTTP to the verifier) over benchStore.
func benchAPI(b *testing.B) (http.Handler, *benchStore, *workflowtest.Recorder, string) {
	b.Helper()
	issuer, err := auth.NewLocalIssuer("http://issuer.test/local", "number-release")
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
	st := newBenchStore()
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
		if got, err := st.GetNumber(context.Background(), "acme", n); err != nil || got.Status != number.Releasing {
			b.Fatalf("%s after the approval: %s, %v; want RELEASING", n, got.Status, err)
		}
	}
	var out struct {
		Results []release.Result `json:"results"`
	}
	w := serve(h, "POST", "/v1/numbers/release", token, body) // already RELEASING: harmless
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || len(out.Results) != number.MaxPerRequest || out.Results[0].Status != string(number.Releasing) {
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
