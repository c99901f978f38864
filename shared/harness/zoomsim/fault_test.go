package zoomsim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/zoom"
)

func TestFaults(t *testing.T) {
	tests := []struct {
		name    string
		set     func(e *env, t *testing.T)
		path    string
		want    []int // statuses of successive calls to path
		retry   string
		wantMsg string
	}{
		{"three 503 then success", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":503,"count":3,"path_prefix":"/zoom-sim/v2/number_management/numbers","retry_after_seconds":0}`, http.StatusNoContent)
		}, listPath, []int{503, 503, 503, 200}, "", ""},
		{"429 with Retry-After", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":429,"count":1,"retry_after_seconds":7}`, http.StatusNoContent)
		}, listPath, []int{429, 200}, "7",
			"You have reached the maximum per-second rate limit for this API. Try again later."},
		{"until cleared", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":500,"count":-1}`, http.StatusNoContent)
		}, listPath, []int{500, 500, 500, 500, 500}, "", ""},
		{"other path unaffected", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":503,"count":2,"path_prefix":"/zoom-sim/v2/phone/users"}`, http.StatusNoContent)
		}, listPath, []int{200, 200}, "", ""},
		{"Go API", func(e *env, _ *testing.T) {
			e.sim.SetFault(zoomsim.Fault{Status: 429, Count: 2, RetryAfter: 2 * time.Second})
		}, listPath, []int{429, 429, 200}, "2", ""},
		{"cleared by DELETE", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":503,"count":-1}`, http.StatusNoContent)
			e.admin(t, http.MethodDelete, "", http.StatusNoContent)
		}, listPath, []int{200}, "", ""},
		{"admin and OAuth unaffected", func(e *env, t *testing.T) {
			e.admin(t, http.MethodPost, `{"status":503,"count":-1}`, http.StatusNoContent)
		}, "/zoom-sim/admin/numbers", []int{200, 200}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.Put("acct-a", "+97239754571", nil)
			tok := e.token(t, "acct-a")
			tt.set(e, t)
			for i, want := range tt.want {
				r := e.do(t, http.MethodGet, tt.path, tok, "")
				if r.status != want {
					t.Fatalf("call %d: status = %d (%s); want %d", i+1, r.status, r.body, want)
				}
				if want == http.StatusOK {
					continue
				}
				if got := r.header.Get("Retry-After"); got != tt.retry {
					t.Errorf("Retry-After = %q; want %q", got, tt.retry)
				}
				code, msg := r.zoomErr(t)
				if want == 429 && code != zoom.CodeRateLimited || want != 429 && code != want {
					t.Errorf("code = %d for status %d", code, want)
				}
				if tt.wantMsg != "" && msg != tt.wantMsg {
					t.Errorf("message = %q", msg)
				}
			}
			e.token(t, "acct-a") // OAuth is never faulted
		})
	}
	t.Run("latency", func(t *testing.T) {
		tests := []struct {
			name, body string
			want       []int
		}{
			{"latency only, then served", `{"latency_ms":150,"count":2}`, []int{200, 200, 200}},
			{"latency then a 503", `{"status":503,"latency_ms":150}`, []int{503, 200}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t)
				e.sim.Put("acct-a", "+97239754571", nil)
				tok := e.token(t, "acct-a")
				e.admin(t, http.MethodPost, tt.body, http.StatusNoContent)
				if r := e.do(t, http.MethodGet, "/zoom-sim/admin/faults", "", ""); !strings.Contains(string(r.body), `"latency_ms":150`) {
					t.Fatalf("fault = %s", r.body)
				}
				var took []time.Duration
				for i, want := range tt.want {
					start := time.Now()
					r := e.do(t, http.MethodGet, numbersPath, tok, "")
					took = append(took, time.Since(start))
					if r.status != want {
						t.Fatalf("call %d: status %d; want %d", i+1, r.status, want)
					}
				}
				last := len(took) - 1
				for i, d := range took[:last] {
					if d < 150*time.Millisecond {
						t.Errorf("call %d took %s; want ≥ 150ms", i+1, d)
					}
				}
				if took[last] >= 150*time.Millisecond {
					t.Errorf("call after the fault took %s", took[last])
				}
			})
		}
	})
	t.Run("latency outlasting the caller", func(t *testing.T) {
		e := newEnv(t)
		e.sim.Put("acct-a", "+97239754571", nil)
		tok := e.token(t, "acct-a")
		e.sim.SetFault(zoomsim.Fault{Latency: 5 * time.Second, Count: 1})
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+numbersPath, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		c := &http.Client{Timeout: 100 * time.Millisecond}
		start := time.Now()
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("status %d; want a client timeout", resp.StatusCode)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("timed out after %s", d)
		}
	})
	t.Run("invalid fault", func(t *testing.T) {
		e := newEnv(t)
		r := e.do(t, http.MethodPost, "/zoom-sim/admin/faults", "", `{"status":200,"count":0,"path_prefix":"/x"}`)
		if r.status != http.StatusBadRequest {
			t.Fatalf("status = %d", r.status)
		}
		for _, f := range []string{`"status"`, `"count"`, `"path_prefix"`} {
			if !strings.Contains(string(r.body), f) {
				t.Errorf("body %s does not name %s", r.body, f)
			}
		}
		r = e.do(t, http.MethodPost, "/zoom-sim/admin/faults", "", `{"latency_ms":-1}`)
		for _, f := range []string{`"status"`, `"latency_ms"`} {
			if !strings.Contains(string(r.body), f) {
				t.Errorf("body %s does not name %s", r.body, f)
			}
		}
	})
}

// admin calls /zoom-sim/admin/faults and checks the status.
func (e *env) admin(t *testing.T, method, body string, want int) {
	t.Helper()
	if r := e.do(t, method, "/zoom-sim/admin/faults", "", body); r.status != want {
		t.Fatalf("%s faults: %d (%s); want %d", method, r.status, r.body, want)
	}
}
