package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSoak runs a bounded mixed load against the whole system running as a
// separate process (`go run ./shared/harness/local`, or E2E_SOAK_URL), from several
// goroutines on loopback, then checks: zero 5xx answers, and not one history
// entry lost — every status change the API confirmed is in the number's
// history, in order, and every history replays to the number's status.
// SOAK_DURATION (default 20s) bounds it; -short skips it.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak skipped in -short mode")
	}
	duration := 20 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil && d > 0 {
		duration = d
	}
	target := os.Getenv("E2E_SOAK_URL")
	if target == "" {
		target = startLocalProcess(t)
	}
	s := &soak{t: t, base: target, expected: map[string][]string{}, client: &http.Client{Timeout: 30 * time.Second}}
	s.customer = s.token(`{"kind":"customer","tenant_id":"globex","sub":"soak"}`)
	s.provider = s.token(`{"kind":"provider","provider_id":"pxc"}`)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	var seq atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s.round(fmt.Sprintf("+1628555%04d", seq.Add(1)%10000))
			}
		}()
	}
	wg.Wait()
	t.Logf("soak: %d requests in %s (%.0f/s), %d 5xx, %d numbers", s.requests.Load(), duration,
		float64(s.requests.Load())/duration.Seconds(), s.serverErrors.Load(), len(s.expected))
	if n := s.serverErrors.Load(); n > 0 {
		t.Errorf("%d answers were 5xx", n)
	}
	lost := 0
	for n, want := range s.expected {
		lost += s.verifyHistory(n, want)
	}
	t.Logf("soak: history entries lost: %d", lost)
	if lost > 0 {
		t.Fatalf("%d confirmed status changes are missing from history", lost)
	}
}

type soak struct {
	t                      *testing.T
	base                   string
	client                 *http.Client
	customer, provider     string
	requests, serverErrors atomic.Int64
	mu                     sync.Mutex
	expected               map[string][]string // number → confirmed "to:actor-kind" changes, in order
}

// round asks for a number, then approves, rejects or cancels it, reading
// lists and details in between, as the three kinds of callers would.
func (s *soak) round(n string) {
	var created struct {
		Numbers []struct{ Number, Status string } `json:"numbers"`
	}
	st := s.do("POST", "/provider/v1/release-requests", s.provider, fmt.Sprintf(`{"customer_id":"globex","numbers":[%q]}`, n), &created)
	if st != http.StatusCreated || len(created.Numbers) != 1 || created.Numbers[0].Status != "PENDING_APPROVAL" {
		return // still open from an earlier round of this number, or released already
	}
	s.confirm(n, "PENDING_APPROVAL")
	s.do("GET", "/v1/numbers?status=PENDING_APPROVAL&limit=20", s.customer, "", nil)
	s.do("GET", "/provider/v1/customers/globex/numbers?limit=20", s.provider, "", nil)
	var res struct {
		Results []struct{ Number, Status string } `json:"results"`
	}
	switch rand.IntN(3) {
	case 0: // cancel
		var c struct{ Status string }
		if s.do("DELETE", "/provider/v1/customers/globex/numbers/"+url.PathEscape(n)+"/release-request", s.provider, "", &c) == http.StatusOK && c.Status == "CANCELLED" {
			s.confirm(n, "CANCELLED")
		}
	case 1: // reject
		if s.do("POST", "/v1/numbers/reject", s.customer, fmt.Sprintf(`{"numbers":[%q]}`, n), &res) == http.StatusOK && len(res.Results) == 1 && res.Results[0].Status == "REJECTED" {
			s.confirm(n, "REJECTED")
		}
	default: // approve: the number is not in globex's Zoom account, so the workflow releases it at once
		if s.do("POST", "/v1/numbers/release", s.customer, fmt.Sprintf(`{"numbers":[%q]}`, n), &res) == http.StatusAccepted && len(res.Results) == 1 && res.Results[0].Status == "RELEASING" {
			s.confirm(n, "RELEASING")
		}
	}
	s.do("GET", "/v1/numbers/"+url.PathEscape(n), s.customer, "", nil)
}

func (s *soak) confirm(n, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expected[n] = append(s.expected[n], to)
}

func (s *soak) do(method, path, token, body string, out any) int {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	s.requests.Add(1)
	resp, err := s.client.Do(req)
	if err != nil {
		s.serverErrors.Add(1)
		s.t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		s.serverErrors.Add(1)
		s.t.Errorf("%s %s → %d", method, path, resp.StatusCode)
	}
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func (s *soak) token(body string) string {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	resp, err := http.Post(s.base+"/local/token", "application/json", strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		s.t.Fatalf("token: %v", err)
	}
	return out.AccessToken
}

// verifyHistory returns how many confirmed changes are missing from the
// number's history; a history that does not replay to the status fails.
func (s *soak) verifyHistory(n string, want []string) int {
	var d numberDetail
	if st := s.do("GET", "/v1/numbers/"+url.PathEscape(n), s.customer, "", &d); st != http.StatusOK {
		s.t.Fatalf("GET %s: %d", n, st)
	}
	from := ""
	for _, h := range d.History {
		if h.From != from {
			s.t.Fatalf("%s: history jumps from %q to an entry from %q", n, from, h.From)
		}
		from = h.To
	}
	if from != d.Status {
		s.t.Fatalf("%s: history replays to %s, status is %s", n, from, d.Status)
	}
	missing, i := 0, 0
	for _, w := range want {
		for i < len(d.History) && d.History[i].To != w {
			i++
		}
		if i == len(d.History) {
			missing++
			continue
		}
		i++
	}
	return missing
}

// startLocalProcess builds and starts `make run`'s command as a second
// process on a free port and stops it (and its emulator) when the test ends.
func startLocalProcess(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, "numberrelease/shared/harness/local").CombinedOutput(); err != nil {
		t.Fatalf("build local: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port), "RECHECK_SECONDS=2")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // drain the JSON logs
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("the local system did not become healthy in 90 s")
	return ""
}
