// Package e2e drives the whole system over HTTP, as a carrier, a customer's
// phone admin and Zoom would: real Step Functions executions on the
// emulator, the project's handlers behind them, the Zoom simulator. With
// E2E_BASE_URL unset it starts the local system in-process (devstack);
// with E2E_BASE_URL=http://localhost:8080 it runs against `make run`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"numberrelease/shared/harness/apicheck"
	"numberrelease/shared/harness/devstack"
)

var (
	base string
	// stack is the in-process system, nil against E2E_BASE_URL.
	stack *devstack.Stack
	// recheck is the system's re-check interval, which bounds waits.
	recheck = 2 * time.Second
	// retryBudget is how long the system retries transient trouble before
	// a release is FAILED (tasks.Config.RetryBudget).
	retryBudget = 10 * time.Second
	// reconcileGrace and reconcileEvery: the reconciler's grace and period
	// in the in-process system.
	reconcileGrace, reconcileEvery = 30 * time.Second, 5 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// validator checks answers against the OpenAPI document.
var validator *apicheck.Validator

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() && os.Getenv("E2E_BASE_URL") == "" {
		fmt.Println("e2e: skipped with -short: the suite starts the local system, which needs the AWS emulator (moto, Python)")
		return 0
	}
	var err error
	if validator, err = apicheck.NewValidator(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if base = strings.TrimRight(os.Getenv("E2E_BASE_URL"), "/"); base != "" {
		recheck = 10 * time.Second // make run's defaults
		retryBudget = devstack.Defaults().RetryBudget
		reconcileGrace, reconcileEvery = devstack.Defaults().ReconcileGrace, devstack.Defaults().ReconcileEvery
		return m.Run()
	}
	cfg := devstack.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.Recheck = recheck
	cfg.MaxWait = time.Hour
	cfg.ZoomRetryIntervalSeconds, cfg.ZoomRetryMaxAttempts = 1, 2
	cfg.RetryBudget, cfg.RetryPause = retryBudget, 2*time.Second
	cfg.ReconcileGrace, cfg.ReconcileEvery = reconcileGrace, reconcileEvery
	cfg.Faults = faults.wire()
	// The system's log goes to a temporary file, whose tail is printed if a
	// test fails; E2E_LOG=<path> keeps the whole log there instead.
	logFile, err := os.CreateTemp("", "e2e-devstack-*.log")
	if keep := os.Getenv("E2E_LOG"); keep != "" {
		logFile, err = os.Create(keep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("E2E_LOG") == "" {
		defer os.Remove(logFile.Name())
	}
	cfg.Log = slog.New(slog.NewJSONHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err = devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start the local system: %v\n", err)
		return 1
	}
	base = stack.URL
	code := m.Run()
	if err := stack.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "stop the local system: %v\n", err)
	}
	if code != 0 {
		_, _ = logFile.Seek(0, io.SeekStart)
		all, _ := io.ReadAll(logFile)
		// The errors of the whole run first (a failed request may be long
		// before the tail), then the tail.
		var errs []string
		for line := range strings.Lines(string(all)) {
			if strings.Contains(line, `"level":"ERROR"`) && len(errs) < 200 {
				errs = append(errs, line)
			}
		}
		fmt.Fprintf(os.Stderr, "--- local system log: the first %d errors ---\n%s", len(errs), strings.Join(errs, ""))
		tail := all[max(0, len(all)-20000):]
		fmt.Fprintf(os.Stderr, "--- local system log (tail) ---\n%s\n", tail)
	}
	return code
}

// client is one caller with its bearer token.
type client struct {
	t     *testing.T
	token string
}

func tokenFor(t *testing.T, body string) *client {
	t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	status := call(t, "POST", "/local/token", "", body, &out)
	if status != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("local token: status %d", status)
	}
	return &client{t: t, token: out.AccessToken}
}

func customer(t *testing.T, tenant string) *client {
	return tokenFor(t, fmt.Sprintf(`{"kind":"customer","tenant_id":%q,"sub":"admin-%s"}`, tenant, tenant))
}

func provider(t *testing.T, id string) *client {
	return tokenFor(t, fmt.Sprintf(`{"kind":"provider","provider_id":%q}`, id))
}

func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	return call(c.t, method, path, c.token, body, out)
}

// call sends one request; body may be a string or a value to encode.
func call(t *testing.T, method, path, token string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	// Every answer of the product (not of the Zoom simulator) must match the
	// OpenAPI document.
	if !strings.HasPrefix(path, "/zoom-sim/") {
		if err := validator.ValidateResponse(req, resp.StatusCode, resp.Header, raw); err != nil {
			t.Errorf("%s %s → %d does not match the OpenAPI document: %v", method, path, resp.StatusCode, err)
		}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s → %d: not JSON: %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

type numberDetail struct {
	Number       string `json:"number"`
	Status       string `json:"status"`
	Message      string `json:"message"`
	ZoomAssignee *struct {
		ID, Name, Type string
	} `json:"zoom_assignee"`
	History []struct {
		Version              int
		From, To, Actor, Why string
	} `json:"history"`
}

// chainError says what is wrong with a number's history, or "" when it is
// a valid chain: entries numbered 1, 2, 3, ... and each one starting where
// the one before it ended (so nothing is missing or recorded twice), ending
// at the number's status.
func (d numberDetail) chainError() string {
	prev := ""
	for i, h := range d.History {
		if h.Version != i+1 {
			return fmt.Sprintf("entry %d has version %d", i+1, h.Version)
		}
		if h.From != prev {
			return fmt.Sprintf("entry %d goes %s → %s after %s", i+1, h.From, h.To, prev)
		}
		prev = h.To
	}
	if prev != d.Status {
		return fmt.Sprintf("the history ends at %s; the number is %s", prev, d.Status)
	}
	return ""
}

func (c *client) number(n string) numberDetail {
	c.t.Helper()
	var d numberDetail
	if st := c.do("GET", "/v1/numbers/"+url.PathEscape(n), nil, &d); st != http.StatusOK {
		c.t.Fatalf("GET number %s: %d", n, st)
	}
	return d
}

// waitStatus polls a number until it reaches want, or fails after timeout.
func (c *client) waitStatus(n, want string, timeout time.Duration) numberDetail {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		d := c.number(n)
		if d.Status == want {
			return d
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s is %s (message %q) after %s; want %s", n, d.Status, d.Message, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d numberDetail) path() string {
	var steps []string
	for _, h := range d.History {
		steps = append(steps, h.To)
	}
	return strings.Join(steps, " → ")
}

type results struct {
	Results []struct {
		Number string `json:"number"`
		Status string `json:"status"`
		Error  *struct {
			Code, Detail string
		} `json:"error"`
	} `json:"results"`
}
