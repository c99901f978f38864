package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestRejectReason: a rejection may say why; the reason (trimmed) is on the
// REJECTED history entry and is the number's message, which the provider
// reads in its listing and its request's detail. A reason too long or not
// one line is refused, naming reason, and nothing is rejected.
func TestRejectReason(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		status  int
		message string // the number's message after it; "" none
		why     string // the REJECTED entry's why
		refusal string // a substring of the refusal
	}{
		{"no reason", `{"numbers":["+97239754571"]}`, 200, "", "release rejected by customer", ""},
		{"empty reason", `{"numbers":["+97239754571"],"reason":""}`, 200, "", "release rejected by customer", ""},
		{"blank reason", `{"numbers":["+97239754571"],"reason":"   "}`, 200, "", "release rejected by customer", ""},
		{"reason, trimmed", `{"numbers":["+97239754571"],"reason":"  still used by the support line "}`, 200,
			"rejected by the customer: still used by the support line", "release rejected by customer: still used by the support line", ""},
		{"500 Hebrew letters", `{"numbers":["+97239754571"],"reason":"` + strings.Repeat("ש", 500) + `"}`, 200,
			"rejected by the customer: " + strings.Repeat("ש", 500), "release rejected by customer: " + strings.Repeat("ש", 500), ""},
		{"501 characters", `{"numbers":["+97239754571"],"reason":"` + strings.Repeat("x", 501) + `"}`, 400, "", "", "reason is 501 characters; at most 500"},
		{"a line break", `{"numbers":["+97239754571"],"reason":"one\ntwo"}`, 400, "", "", "reason holds a control character"},
		{"a tab", `{"numbers":["+97239754571"],"reason":"one\ttwo"}`, 400, "", "", "reason holds a control character"},
		{"a NUL", `{"numbers":["+97239754571"],"reason":"one\u0000"}`, 400, "", "", "reason holds a control character"},
		{"a line separator", `{"numbers":["+97239754571"],"reason":"one\u2028two"}`, 400, "", "", "reason holds a control character"},
		{"a null reason", `{"numbers":["+97239754571"],"reason":null}`, 400, "", "", `\"reason\" must not be null`},
		{"a reason of the wrong type", `{"numbers":["+97239754571"],"reason":5}`, 400, "", "", "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.request("+97239754571")
			requestID := r.json(t)["request_id"].(string)
			r = e.call("POST", "/v1/numbers/reject", "acme", tt.body)
			if tt.status != http.StatusOK {
				e.want(r, tt.status, "invalid_request")
				if !strings.Contains(string(r.body), tt.refusal) {
					t.Fatalf("refusal does not say %q: %s", tt.refusal, r.body)
				}
				if got := e.snapshot("acme"); !strings.Contains(got, "PENDING_APPROVAL") {
					t.Fatalf("a refused rejection changed the number: %s", got)
				}
				return
			}
			e.want(r, http.StatusOK, "")
			if got := r.json(t)["results"].([]any)[0].(map[string]any)["status"]; got != "REJECTED" {
				t.Fatalf("result %s", r.body)
			}
			// The provider's listing and request detail, and the history.
			r = e.call("GET", "/provider/v1/customers/acme/numbers?status=REJECTED", "pxc", nil)
			e.want(r, http.StatusOK, "")
			items := r.json(t)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("provider lists %s", r.body)
			}
			if got, _ := items[0].(map[string]any)["message"].(string); got != tt.message {
				t.Errorf("provider's listing: message %q; want %q", got, tt.message)
			}
			r = e.call("GET", "/provider/v1/release-requests/"+requestID, "pxc", nil)
			e.want(r, http.StatusOK, "")
			if got, _ := r.json(t)["numbers"].([]any)[0].(map[string]any)["message"].(string); got != tt.message {
				t.Errorf("request detail: message %q; want %q", got, tt.message)
			}
			r = e.call("GET", "/v1/numbers/%2B97239754571", "acme", nil)
			e.want(r, http.StatusOK, "")
			hist := r.json(t)["history"].([]any)
			last := hist[len(hist)-1].(map[string]any)
			if last["to"] != "REJECTED" || last["why"] != tt.why {
				t.Errorf("last history entry %v; want to REJECTED, why %q", last, tt.why)
			}
			if got, _ := r.json(t)["message"].(string); got != tt.message {
				t.Errorf("customer's view: message %q; want %q", got, tt.message)
			}
		})
	}
}
