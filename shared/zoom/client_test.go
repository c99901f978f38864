package zoom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

const (
	findCall   = "GET /zoom-sim/v2/number_management/numbers"
	deleteCall = "DELETE /zoom-sim/v2/number_management/numbers"
)

func TestFindNumber(t *testing.T) {
	h := newHarness(t, options{})
	dana := &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"}
	queue := &zoom.Assignee{ID: "cq1", Name: "Support", Type: "callQueue"}
	h.sim.Put("acct-a", "+97239754569", dana)
	h.sim.Put("acct-a", "+97239754571", nil)
	h.sim.Put("acct-a", "+97239754573", queue)
	// German numbers vary in length, so one can start with another: Zoom's
	// keyword (a prefix) lists both.
	h.sim.Put("acct-a", "+493012345678", nil)
	h.sim.Put("acct-a", "+4930123456789", dana)
	h.sim.Put("acct-a", "+493012345601", nil) // only a longer number starts with +49301234560
	h.sim.Put("acct-b", "+97239754572", nil)
	tests := []struct {
		name, account, in string
		want              zoom.PhoneNumber
		wantKind          zoom.Kind
	}{
		{"assigned to a user", "acct-a", "+97239754569",
			zoom.PhoneNumber{ID: "pn_97239754569", Number: "+97239754569", Status: "Normal", Assignee: dana}, ""},
		{"assigned to a call queue", "acct-a", "+97239754573",
			zoom.PhoneNumber{ID: "pn_97239754573", Number: "+97239754573", Status: "Normal", Assignee: queue}, ""},
		{"unassigned", "acct-a", "+97239754571",
			zoom.PhoneNumber{ID: "pn_97239754571", Number: "+97239754571", Status: "Normal"}, ""},
		{"input without plus", "acct-a", "97239754571",
			zoom.PhoneNumber{ID: "pn_97239754571", Number: "+97239754571", Status: "Normal"}, ""},
		{"a longer number listed too is not it", "acct-a", "+493012345678",
			zoom.PhoneNumber{ID: "pn_493012345678", Number: "+493012345678", Status: "Normal"}, ""},
		{"the longer number itself", "acct-a", "+4930123456789",
			zoom.PhoneNumber{ID: "pn_4930123456789", Number: "+4930123456789", Status: "Normal", Assignee: dana}, ""},
		{"not found", "acct-a", "+97239754574", zoom.PhoneNumber{}, zoom.NotFound},
		{"only a longer number matches the prefix", "acct-a", "+49301234560", zoom.PhoneNumber{}, zoom.NotFound},
		{"other account's number", "acct-a", "+97239754572", zoom.PhoneNumber{}, zoom.NotFound},
		{"not a number", "acct-a", "hello", zoom.PhoneNumber{}, zoom.Rejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.client.FindNumber(context.Background(), tt.account, tt.in)
			h.checkNoSecrets(t, err)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v / %+v; want %+v / %+v", got, got.Assignee, tt.want, tt.want.Assignee)
			}
		})
	}
}

// zoomServer answers the token endpoint and sends every API request to api.
func zoomServer(t *testing.T, api http.HandlerFunc) *zoom.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			fmt.Fprint(w, `{"access_token":"t1","token_type":"bearer","expires_in":3600}`)
			return
		}
		api(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := zoom.New(zoom.Config{APIBase: srv.URL, OAuthURL: srv.URL + "/oauth/token", ClientID: "i", ClientSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFindNumberReadsZoomsAnswer: what FindNumber makes of the shapes
// GET /number_management/numbers may answer for +97239754571.
func TestFindNumberReadsZoomsAnswer(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     zoom.PhoneNumber
		wantKind zoom.Kind
	}{
		{"unassigned, no assigned_list", `{"page_size":200,"numbers":[{"id":"a","number":"+97239754571","status":"Normal"}]}`,
			zoom.PhoneNumber{ID: "a", Number: "+97239754571", Status: "Normal"}, ""},
		{"unassigned, empty assigned_list", `{"numbers":[{"id":"a","number":"+97239754571","status":"Pending","assigned_list":[]}]}`,
			zoom.PhoneNumber{ID: "a", Number: "+97239754571", Status: "Pending"}, ""},
		{"assigned: the first entry is the assignee, its type in the Phone API's spelling",
			`{"numbers":[{"id":"a","number":"+97239754571","status":"Normal","assigned_list":[` +
				`{"assigned_to_id":"u1","assigned_to_name":"Dana","assigned_to_type":"User","extension_number":"1001"},` +
				`{"assigned_to_id":"site","assigned_to_name":"Main","assigned_to_type":"EmergencyNumberPool"}]}]}`,
			zoom.PhoneNumber{ID: "a", Number: "+97239754571", Status: "Normal",
				Assignee: &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user", ExtensionNumber: "1001"}}, ""},
		{"a type the Phone API did not have", `{"numbers":[{"id":"a","number":"+97239754571","assigned_list":[` +
			`{"assigned_to_id":"r1","assigned_to_name":"Room","assigned_to_type":"CiscoPolycomRoom","extension_number":801}]}]}`,
			zoom.PhoneNumber{ID: "a", Number: "+97239754571",
				Assignee: &zoom.Assignee{ID: "r1", Name: "Room", Type: "ciscoPolycomRoom", ExtensionNumber: "801"}}, ""},
		{"number without plus", `{"numbers":[{"id":"a","number":"97239754571"}]}`,
			zoom.PhoneNumber{ID: "a", Number: "97239754571"}, ""},
		{"only other numbers", `{"numbers":[{"id":"b","number":"+972397545710"}]}`, zoom.PhoneNumber{}, zoom.NotFound},
		{"the Phone API's shape lists nothing", `{"phone_numbers":[{"id":"a","number":"+97239754571"}]}`, zoom.PhoneNumber{}, zoom.NotFound},
		{"malformed body", `{"numbers":`, zoom.PhoneNumber{}, zoom.Unavailable},
		{"malformed extension", `{"numbers":[{"id":"a","number":"+97239754571","assigned_list":[{"assigned_to_id":"u1","extension_number":true}]}]}`,
			zoom.PhoneNumber{}, zoom.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := zoomServer(t, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, tt.body) })
			got, err := c.FindNumber(context.Background(), "acct", "+97239754571")
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v / %+v; want %+v / %+v", got, got.Assignee, tt.want, tt.want.Assignee)
			}
		})
	}
}

// TestFindNumberFollowsPages uses a server that lists other numbers first,
// so the number is only on the second page.
func TestFindNumberFollowsPages(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	c := zoomServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		if r.URL.Query().Get("next_page_token") == "" {
			fmt.Fprint(w, `{"next_page_token":"p2","page_size":200,"numbers":[{"id":"a","number":"+972397545710","status":"Normal"}]}`)
			return
		}
		fmt.Fprint(w, `{"next_page_token":"","page_size":200,"numbers":[{"id":"b","number":"+97239754571","status":"Normal",`+
			`"assigned_list":[{"assigned_to_id":"cq","assigned_to_name":"Q","assigned_to_type":"CallQueue","extension_number":"801"}]}]}`)
	})
	got, err := c.FindNumber(context.Background(), "acct", "+97239754571")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "b" || got.Assignee == nil || *got.Assignee != (zoom.Assignee{ID: "cq", Name: "Q", Type: "callQueue", ExtensionNumber: "801"}) {
		t.Fatalf("got %+v / %+v", got, got.Assignee)
	}
	want := []string{
		"GET /number_management/numbers?keyword=97239754571&page_size=200",
		"GET /number_management/numbers?keyword=97239754571&next_page_token=p2&page_size=200",
	}
	if fmt.Sprint(queries) != fmt.Sprint(want) {
		t.Fatalf("queries = %q; want %q", queries, want)
	}
}

func TestTokenSharedByConcurrentCalls(t *testing.T) {
	h := newHarness(t, options{})
	h.sim.Put("acct-a", "+97239754571", nil)
	h.sim.Put("acct-b", "+97239754572", nil)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range 2 * n {
		account, num := "acct-a", "+97239754571"
		if i%2 == 1 {
			account, num = "acct-b", "+97239754572"
		}
		wg.Go(func() {
			if _, err := h.client.FindNumber(context.Background(), account, num); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if tokens, calls, _ := h.counts(findCall); tokens != 2 || calls != 2*n {
		t.Fatalf("token requests = %d (want 1 per account, 2), API calls = %d (want %d)", tokens, calls, 2*n)
	}
}

func TestTokenLifecycle(t *testing.T) {
	tests := []struct {
		name           string
		separateClocks bool
		advanceSim     time.Duration
		advanceClient  time.Duration
		wantTokens     int
		want401        int
	}{
		{"cached while more than 5 min remain", false, 54 * time.Minute, 0, 1, 0},
		{"refreshed when fewer than 5 min remain", false, 56 * time.Minute, 0, 2, 0},
		{"refreshed after expiry", false, 2 * time.Hour, 0, 2, 0},
		{"401 on a cached token: one re-fetch and success", true, 2 * time.Hour, 0, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, options{separateClocks: tt.separateClocks})
			h.sim.Put("acct-a", "+97239754571", nil)
			ctx := context.Background()
			if _, err := h.client.FindNumber(ctx, "acct-a", "+97239754571"); err != nil {
				t.Fatal(err)
			}
			h.simClock.Advance(tt.advanceSim)
			if tt.separateClocks {
				h.clientClock.Advance(tt.advanceClient)
			}
			if _, err := h.client.FindNumber(ctx, "acct-a", "+97239754571"); err != nil {
				t.Fatal(err)
			}
			tokens, _, unauthorized := h.counts(findCall)
			if tokens != tt.wantTokens || unauthorized != tt.want401 {
				t.Fatalf("token requests = %d, 401s = %d; want %d, %d", tokens, unauthorized, tt.wantTokens, tt.want401)
			}
		})
	}
	t.Run("persistent 401 is BadCredentials after one retry", func(t *testing.T) {
		h := newHarness(t, options{})
		h.sim.Put("acct-a", "+97239754571", nil)
		h.setForce401(true)
		_, err := h.client.FindNumber(context.Background(), "acct-a", "+97239754571")
		h.checkNoSecrets(t, err)
		var ze *zoom.Error
		if !errors.As(err, &ze) || ze.Kind != zoom.BadCredentials || ze.Status != 401 || ze.Code != zoom.CodeInvalidAccessToken {
			t.Fatalf("err = %v; want BadCredentials 401/124", err)
		}
		if tokens, calls, _ := h.counts(findCall); tokens != 2 || calls != 2 {
			t.Fatalf("token requests = %d, API calls = %d; want 2, 2", tokens, calls)
		}
	})
}

func TestRemoveNumbers(t *testing.T) {
	num := func(i int) string { return fmt.Sprintf("+9723975%04d", i) }
	id := func(i int) string { return fmt.Sprintf("pn_9723975%04d", i) }
	tests := []struct {
		name      string
		seed      int // numbers 0..seed-1, unassigned
		assigned  []int
		removeIDs []string
		wantKind  zoom.Kind
		wantCalls int
		gone      []int
		kept      []int
	}{
		{"45 ids in 5 calls", 45, nil, ids(id, 0, 45), "", 5, seq(0, 45), nil},
		{"exactly 10 in one call", 10, nil, ids(id, 0, 10), "", 1, seq(0, 10), nil},
		{"already removed id", 1, nil, []string{id(7)}, "", 1, nil, []int{0}},
		{"already removed id in a batch", 3, nil, []string{id(0), id(7), id(2)}, "", 4, []int{0, 2}, []int{1}},
		{"duplicates collapse", 2, nil, []string{id(0), id(0), id(1)}, "", 1, []int{0, 1}, nil},
		{"assigned", 3, []int{1}, []string{id(0), id(1)}, zoom.Assigned, 1, nil, []int{0, 1, 2}},
		{"assigned in a later batch: earlier batches stay removed", 12, []int{11}, ids(id, 0, 12), zoom.Assigned, 2, seq(0, 10), []int{10, 11}},
		{"nothing to do", 1, nil, nil, "", 0, nil, []int{0}},
		{"empty id", 1, nil, []string{""}, zoom.Rejected, 0, nil, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, options{})
			for i := range tt.seed {
				h.sim.Put("acct-a", num(i), nil)
			}
			for _, i := range tt.assigned {
				h.sim.Put("acct-a", num(i), &zoom.Assignee{ID: "u1", Name: "Dana", Type: "user"})
			}
			err := h.client.RemoveNumbers(context.Background(), "acct-a", tt.removeIDs)
			h.checkNoSecrets(t, err)
			if zoom.KindOf(err) != tt.wantKind || (tt.wantKind != "") != (err != nil) {
				t.Fatalf("err = %v (kind %q); want kind %q", err, zoom.KindOf(err), tt.wantKind)
			}
			if _, calls, _ := h.counts(deleteCall); calls != tt.wantCalls {
				t.Fatalf("DELETE calls = %d; want %d", calls, tt.wantCalls)
			}
			for _, i := range tt.gone {
				if h.present(num(i)) {
					t.Errorf("%s still present", num(i))
				}
			}
			for _, i := range tt.kept {
				if !h.present(num(i)) {
					t.Errorf("%s was removed", num(i))
				}
			}
		})
	}
}

func ids(f func(int) string, from, to int) []string {
	out := []string{}
	for i := from; i < to; i++ {
		out = append(out, f(i))
	}
	return out
}

func seq(from, to int) []int {
	out := []int{}
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name       string
		fault      zoomsim.Fault
		secret     string
		base       string // overrides the server URL
		wantKind   zoom.Kind
		wantStatus int
		wantCode   int
		wantRetry  time.Duration
		wantCalls  int // API calls per operation: no retries of 5xx, 429 as TestThrottleRetries shows
	}{
		{"429 with a long Retry-After", zoomsim.Fault{Status: 429, Count: -1, RetryAfter: 7 * time.Second}, "", "", zoom.Throttled, 429, zoom.CodeRateLimited, 7 * time.Second, 1},
		{"429 without Retry-After", zoomsim.Fault{Status: 429, Count: -1}, "", "", zoom.Throttled, 429, zoom.CodeRateLimited, 0, 2},
		{"503", zoomsim.Fault{Status: 503, Count: -1}, "", "", zoom.Unavailable, 503, 503, 0, 1},
		{"500", zoomsim.Fault{Status: 500, Count: -1}, "", "", zoom.Unavailable, 500, 500, 0, 1},
		{"403", zoomsim.Fault{Status: 403, Count: -1}, "", "", zoom.Rejected, 403, 403, 0, 1},
		{"connection refused", zoomsim.Fault{}, "", closed.URL, zoom.Unavailable, 0, 0, 0, 0},
		{"bad credentials", zoomsim.Fault{}, "wrong-secret", "", zoom.BadCredentials, 401, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, options{secret: tt.secret})
			h.sim.Put("acct-a", "+97239754571", nil)
			h.sim.SetFault(tt.fault)
			c := h.client
			if tt.base != "" {
				c = newClient(t, tt.base, clientSecret, time.Now)
			}
			ops := map[string]func() error{
				findCall: func() error {
					_, err := c.FindNumber(context.Background(), "acct-a", "+97239754571")
					return err
				},
				deleteCall: func() error {
					return c.RemoveNumbers(context.Background(), "acct-a", []string{"pn_97239754571"})
				},
			}
			for call, op := range ops {
				err := op()
				h.checkNoSecrets(t, err)
				if strings.Contains(fmt.Sprint(err), "wrong-secret") {
					t.Errorf("%s: error %q contains the secret", call, err)
				}
				var ze *zoom.Error
				if !errors.As(err, &ze) {
					t.Fatalf("%s: err = %v; want *zoom.Error", call, err)
				}
				if ze.Kind != tt.wantKind || ze.Status != tt.wantStatus || ze.Code != tt.wantCode || ze.RetryAfter != tt.wantRetry {
					t.Fatalf("%s: got kind %q status %d code %d retry %v (%v); want %q %d %d %v",
						call, ze.Kind, ze.Status, ze.Code, ze.RetryAfter, err, tt.wantKind, tt.wantStatus, tt.wantCode, tt.wantRetry)
				}
				if _, calls, _ := h.counts(call); calls != tt.wantCalls {
					t.Fatalf("%s: API calls = %d; want %d", call, calls, tt.wantCalls)
				}
				if tt.wantKind == zoom.Throttled && !strings.Contains(err.Error(), "per-second rate limit") {
					t.Fatalf("%s: error %q does not carry Zoom's message", call, err)
				}
			}
			if !h.present("+97239754571") {
				t.Fatal("a failed RemoveNumbers removed the number")
			}
		})
	}
}

func TestFaultThenSuccess(t *testing.T) {
	h := newHarness(t, options{})
	h.sim.Put("acct-a", "+97239754571", nil)
	h.sim.SetFault(zoomsim.Fault{Status: 503, Count: 3})
	var kinds []zoom.Kind
	for range 4 {
		_, err := h.client.FindNumber(context.Background(), "acct-a", "+97239754571")
		kinds = append(kinds, zoom.KindOf(err))
	}
	if fmt.Sprint(kinds) != "[unavailable unavailable unavailable ]" {
		t.Fatalf("kinds = %q", kinds)
	}
}

// TestRedaction: a server that echoes credentials in its error messages
// must not get them into the client's error strings.
func TestRedaction(t *testing.T) {
	const tok = "tok-0123456789abcdef"
	tests := []struct {
		name     string
		oauth    string // token endpoint answer: status and body
		status   int
		api      string
		wantKind zoom.Kind
	}{
		{"API echoes token and secret", `{"access_token":"` + tok + `","token_type":"bearer","expires_in":3600}`, 200,
			`{"code":300,"message":"token ` + tok + ` with secret ` + clientSecret + ` refused"}`, zoom.Rejected},
		{"OAuth echoes secret", `{"reason":"bad secret ` + clientSecret + `","error":"invalid_client"}`, 400, "", zoom.BadCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.URL.Path == "/oauth/token" {
					w.WriteHeader(tt.status)
					fmt.Fprint(w, tt.oauth)
					return
				}
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, tt.api)
			}))
			defer srv.Close()
			c, err := zoom.New(zoom.Config{APIBase: srv.URL, OAuthURL: srv.URL + "/oauth/token", ClientID: "i", ClientSecret: clientSecret})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.FindNumber(context.Background(), "acct", "+97239754571")
			if zoom.KindOf(err) != tt.wantKind {
				t.Fatalf("err = %v; want kind %q", err, tt.wantKind)
			}
			if msg := err.Error(); strings.Contains(msg, tok) || strings.Contains(msg, clientSecret) || !strings.Contains(msg, "[redacted]") {
				t.Fatalf("error %q leaks or was not redacted", msg)
			}
		})
	}
}

func TestCanceledContext(t *testing.T) {
	h := newHarness(t, options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.client.FindNumber(ctx, "acct-a", "+97239754571")
	if zoom.KindOf(err) != zoom.Unavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want Unavailable wrapping context.Canceled", err)
	}
}
