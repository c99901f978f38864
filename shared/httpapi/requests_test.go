package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestReleaseRequests runs the provider's request tracking (list, read,
// cancel a whole request) over the in-memory store and the emulator's.
func TestReleaseRequests(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) *env{"memory": newEnv, "emulator": newMotoEnv} {
		t.Run(name, func(t *testing.T) { testReleaseRequests(t, mk(t)) })
	}
}

func testReleaseRequests(t *testing.T, e *env) {
	create := func(who, customer string, numbers ...string) string {
		t.Helper()
		r := e.call("POST", "/provider/v1/release-requests", who, map[string]any{"customer_id": customer, "numbers": numbers, "reason": "end of contract"})
		e.want(r, http.StatusCreated, "")
		// Requests made in one millisecond would list in id order.
		time.Sleep(5 * time.Millisecond)
		return r.json(t)["request_id"].(string)
	}
	acmeReq := create("pxc", "acme", "+97239754571", "+97239754569", "+97239754568")
	globexReq := create("pxc", "globex", "+14155552671")
	otherReq := create("other", "initech", "+14155552672")

	// The customer approves one number: it leaves PENDING_APPROVAL.
	r := e.call("POST", "/v1/numbers/release", "acme", map[string]any{"numbers": []string{"+97239754571"}})
	e.want(r, http.StatusAccepted, "")

	tests := []struct {
		name, method, target, who string
		status                    int
		code                      string
		// want are substrings of the answer, in this order.
		want []string
		// not are substrings the answer must not hold.
		not []string
	}{
		{name: "list newest first", method: "GET", target: "/provider/v1/release-requests", who: "pxc", status: 200,
			want: []string{`"request_id":"` + globexReq + `"`, `"counts":{"PENDING_APPROVAL":1}`,
				`"request_id":"` + acmeReq + `"`, `"reason":"end of contract"`, `"counts":{"PENDING_APPROVAL":2,"RELEASING":1}`, `"next_cursor":null`},
			not: []string{otherReq, "initech"}},
		{name: "list one customer", method: "GET", target: "/provider/v1/release-requests?customer_id=acme", who: "pxc", status: 200,
			want: []string{`"customer_id":"acme"`}, not: []string{globexReq}},
		{name: "list another provider's", method: "GET", target: "/provider/v1/release-requests", who: "other", status: 200,
			want: []string{otherReq}, not: []string{acmeReq, globexReq}},
		{name: "list an unlinked customer", method: "GET", target: "/provider/v1/release-requests?customer_id=initech", who: "pxc", status: 404, code: "not_found"},
		{name: "list an invalid customer id", method: "GET", target: "/provider/v1/release-requests?customer_id=Not%20An%20Id", who: "pxc", status: 400, code: "invalid_request", want: []string{"customer_id"}},
		{name: "list an empty customer id", method: "GET", target: "/provider/v1/release-requests?customer_id=", who: "pxc", status: 400, code: "invalid_request", want: []string{"customer_id"}},
		{name: "list a bad cursor", method: "GET", target: "/provider/v1/release-requests?cursor=bm90LWEtY3Vyc29y", who: "pxc", status: 400, code: "invalid_request", want: []string{"cursor"}},
		{name: "list limit over 50", method: "GET", target: "/provider/v1/release-requests?limit=51", who: "pxc", status: 400, code: "invalid_request", want: []string{"limit"}},
		{name: "list limit 0", method: "GET", target: "/provider/v1/release-requests?limit=0", who: "pxc", status: 400, code: "invalid_request", want: []string{"limit"}},
		{name: "list as a customer", method: "GET", target: "/provider/v1/release-requests", who: "acme", status: 403, code: "forbidden"},
		{name: "list as an operator", method: "GET", target: "/provider/v1/release-requests", who: "olive", status: 403, code: "forbidden"},
		{name: "read", method: "GET", target: "/provider/v1/release-requests/" + acmeReq, who: "pxc", status: 200,
			want: []string{`"request_id":"` + acmeReq + `"`, `"customer_id":"acme"`, `"reason":"end of contract"`,
				`{"number":"+97239754568","status":"PENDING_APPROVAL"}`, `{"number":"+97239754569","status":"PENDING_APPROVAL"}`, `{"number":"+97239754571","status":"RELEASING"}`}},
		{name: "read another provider's", method: "GET", target: "/provider/v1/release-requests/" + otherReq, who: "pxc", status: 404, code: "not_found", not: []string{"initech", "+14155552672"}},
		{name: "read an unknown request", method: "GET", target: "/provider/v1/release-requests/no-such-request", who: "pxc", status: 404, code: "not_found"},
		{name: "read a request id with spaces", method: "GET", target: "/provider/v1/release-requests/" + url.PathEscape("a b"), who: "pxc", status: 404, code: "not_found"},
		{name: "read as a customer", method: "GET", target: "/provider/v1/release-requests/" + acmeReq, who: "acme", status: 403, code: "forbidden"},
		{name: "cancel another provider's", method: "DELETE", target: "/provider/v1/release-requests/" + otherReq, who: "pxc", status: 404, code: "not_found"},
		{name: "cancel as a customer", method: "DELETE", target: "/provider/v1/release-requests/" + acmeReq, who: "acme", status: 403, code: "forbidden"},
		{name: "cancel", method: "DELETE", target: "/provider/v1/release-requests/" + acmeReq, who: "pxc", status: 200,
			want: []string{`"request_id":"` + acmeReq + `"`, `{"number":"+97239754568","status":"CANCELLED"}`, `{"number":"+97239754569","status":"CANCELLED"}`,
				`{"number":"+97239754571","error":{"code":"conflict","detail":"+97239754571 is RELEASING; only a request that is pending approval, waiting for unassign or failed can be cancelled"}}`}},
		{name: "cancel again changes nothing", method: "DELETE", target: "/provider/v1/release-requests/" + acmeReq, who: "pxc", status: 200,
			want: []string{`{"number":"+97239754568","status":"CANCELLED"}`, `{"number":"+97239754569","status":"CANCELLED"}`, `{"number":"+97239754571","error":{"code":"conflict"`}},
		{name: "counts after the cancel", method: "GET", target: "/provider/v1/release-requests?customer_id=acme", who: "pxc", status: 200,
			want: []string{`"counts":{"CANCELLED":2,"RELEASING":1}`}},
		{name: "another provider's request untouched", method: "GET", target: "/provider/v1/release-requests/" + otherReq, who: "other", status: 200,
			want: []string{`{"number":"+14155552672","status":"PENDING_APPROVAL"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			r := e.call(tt.method, tt.target, tt.who, nil)
			e.want(r, tt.status, tt.code)
			body := string(r.body)
			rest := body
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("answer lacks %s (in order): %s", w, body)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Fatalf("answer holds %s: %s", n, body)
				}
			}
		})
	}

	// The cancelled numbers may be asked for again, under a new request;
	// the old request keeps them as they ended there.
	e.t = t
	again := create("pxc", "acme", "+97239754569")
	r = e.call("GET", "/provider/v1/release-requests/"+acmeReq, "pxc", nil)
	e.want(r, http.StatusOK, "")
	if !strings.Contains(string(r.body), `{"number":"+97239754569","status":"CANCELLED"}`) {
		t.Fatalf("the old request lost its number: %s", r.body)
	}
	r = e.call("GET", "/provider/v1/release-requests/"+again, "pxc", nil)
	e.want(r, http.StatusOK, "")
	if !strings.Contains(string(r.body), `"numbers":[{"number":"+97239754569","status":"PENDING_APPROVAL"}]`) {
		t.Fatalf("the new request: %s", r.body)
	}
	// Cancelling the old request again leaves the number's new request alone.
	r = e.call("DELETE", "/provider/v1/release-requests/"+acmeReq, "pxc", nil)
	e.want(r, http.StatusOK, "")
	if n, _ := e.store.GetNumber(t.Context(), "acme", "+97239754569"); n.RequestID != again || n.Status != "PENDING_APPROVAL" {
		t.Fatalf("cancelling the old request moved the number: %+v", n)
	}
}

// TestReleaseRequestPaging pages through a provider's requests, newest
// first, and refuses a cursor used for another listing.
func TestReleaseRequestPaging(t *testing.T) {
	for name, mk := range map[string]func(*testing.T) *env{"memory": newEnv, "emulator": newMotoEnv} {
		t.Run(name, func(t *testing.T) {
			e := mk(t)
			var ids []string
			for i := range 5 {
				customer := []string{"acme", "globex"}[i%2]
				r := e.call("POST", "/provider/v1/release-requests", "pxc", map[string]any{"customer_id": customer, "numbers": []string{fmt.Sprintf("+1415555260%d", i)}})
				e.want(r, http.StatusCreated, "")
				ids = append([]string{r.json(t)["request_id"].(string)}, ids...) // newest first
				time.Sleep(5 * time.Millisecond)
			}
			var got []string
			var acmeCursor string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatalf("too many pages: %v", got)
				}
				target := "/provider/v1/release-requests?limit=2"
				if cursor != "" {
					target += "&cursor=" + url.QueryEscape(cursor)
				}
				r := e.call("GET", target, "pxc", nil)
				e.want(r, http.StatusOK, "")
				page := r.json(t)
				for _, it := range page["items"].([]any) {
					got = append(got, it.(map[string]any)["request_id"].(string))
				}
				next, _ := page["next_cursor"].(string)
				if next == "" {
					break
				}
				cursor = next
				if acmeCursor == "" {
					acmeCursor = next
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(ids) {
				t.Fatalf("paged %v; want %v", got, ids)
			}
			// A cursor of the whole listing is not one of acme's listing.
			r := e.call("GET", "/provider/v1/release-requests?customer_id=acme&cursor="+url.QueryEscape(acmeCursor), "pxc", nil)
			e.want(r, http.StatusBadRequest, "invalid_request")
			// Nor of another provider's.
			r = e.call("GET", "/provider/v1/release-requests?cursor="+url.QueryEscape(acmeCursor), "other", nil)
			e.want(r, http.StatusBadRequest, "invalid_request")
		})
	}
}
