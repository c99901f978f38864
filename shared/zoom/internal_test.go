package zoom

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewValidatesConfig(t *testing.T) {
	good := Config{APIBase: "https://api.zoom.us/v2/", OAuthURL: "https://zoom.us/oauth/token", ClientID: "id", ClientSecret: "s3cret"}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no API base", func(c *Config) { c.APIBase = "" }, "APIBase"},
		{"relative API base", func(c *Config) { c.APIBase = "/v2" }, "APIBase"},
		{"ftp OAuth URL", func(c *Config) { c.OAuthURL = "ftp://zoom.us/token" }, "OAuthURL"},
		{"no client id", func(c *Config) { c.ClientID = " " }, "ClientID"},
		{"no client secret", func(c *Config) { c.ClientSecret = "" }, "ClientSecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			c, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := c.endpoint(numbersRoute, nil); got != "https://api.zoom.us/v2/number_management/numbers" {
					t.Fatalf("endpoint = %q", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v; want mention of %s", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatal("config error leaks the secret")
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{" 10 ", 10 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, true},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"2026-01-03T00:00:00Z", 20*time.Hour + 55*time.Minute + 55*time.Second, true}, // Zoom's daily-limit form
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got, ok := parseRetryAfter(tt.in, now); got != tt.want || ok != tt.wantOK {
				t.Fatalf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		oauth  bool
		status int
		body   apiError
		want   Kind
	}{
		{"429", false, 429, apiError{Code: 429}, Throttled},
		{"500", false, 500, apiError{}, Unavailable},
		{"503", false, 503, apiError{}, Unavailable},
		{"404", false, 404, apiError{Code: CodeNotFound}, NotFound},
		{"401 after retry", false, 401, apiError{Code: CodeInvalidAccessToken}, BadCredentials},
		{"assigned by code", false, 400, apiError{Code: CodeNumberAssigned, Message: "x"}, Assigned},
		{"assigned by wording", false, 400, apiError{Code: 300, Message: "Phone number +1 is assigned to a user."}, Assigned},
		{"unassigned wording is not assigned", false, 400, apiError{Code: 300, Message: "Only unassigned numbers can be deleted"}, Rejected},
		{"other 400", false, 400, apiError{Code: 300}, Rejected},
		{"403", false, 403, apiError{Code: 200}, Rejected},
		{"oauth 401", true, 401, apiError{Error: "invalid_client"}, BadCredentials},
		{"oauth 400 invalid_client", true, 400, apiError{Error: "invalid_client"}, BadCredentials},
		{"oauth 400 other", true, 400, apiError{Error: "unsupported_grant_type"}, Rejected},
		{"oauth 429", true, 429, apiError{}, Throttled},
		{"oauth 502", true, 502, apiError{}, Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyAPI(tt.status, tt.body)
			if tt.oauth {
				got = classifyOAuth(tt.status, tt.body)
			}
			if got != tt.want {
				t.Fatalf("kind = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestAssigneeUnmarshal(t *testing.T) {
	tests := []struct {
		name, in string
		want     Assignee
		wantErr  bool
	}{
		{"integer extension", `{"id":"u1","name":"Dana","type":"user","extension_number":10001}`, Assignee{"u1", "Dana", "user", "10001"}, false},
		{"string extension", `{"id":"u1","name":"Dana","type":"user","extension_number":"10001"}`, Assignee{"u1", "Dana", "user", "10001"}, false},
		{"null extension", `{"id":"u1","type":"user","extension_number":null}`, Assignee{ID: "u1", Type: "user"}, false},
		{"no extension", `{"id":"cq","name":"Q","type":"callQueue"}`, Assignee{ID: "cq", Name: "Q", Type: "callQueue"}, false},
		{"bad extension", `{"id":"u1","extension_number":true}`, Assignee{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Assignee
			err := json.Unmarshal([]byte(tt.in), &a)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if !tt.wantErr && a != tt.want {
				t.Fatalf("got %+v; want %+v", a, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Kind: Throttled, Status: 429, Code: 429, Message: "slow down", RetryAfter: 3 * time.Second, op: "GET /number_management/numbers"}
	const want = "zoom GET /number_management/numbers: throttled (HTTP 429, code 429): slow down (retry after 3s)"
	if e.Error() != want {
		t.Fatalf("Error() = %q; want %q", e.Error(), want)
	}
	if KindOf(nil) != Unknown || KindOf(e) != Throttled {
		t.Fatal("KindOf")
	}
}

func TestMissing(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"404", &Error{Kind: NotFound, Status: 404}, true},
		{"400 code 100002 (Zoom's answer for an unknown id)", &Error{Kind: Rejected, Status: 400, Code: CodePhoneNumberNotFound, Message: "x"}, true},
		{"400 by message only", &Error{Kind: Rejected, Status: 400, Code: 300, Message: "Phone number not found"}, true},
		{"400 by the Phone API's message", &Error{Kind: Rejected, Status: 400, Code: 300, Message: "Phone number does not exist: pn_1."}, true},
		{"400 code 1001 is another endpoint's", &Error{Kind: Rejected, Status: 400, Code: 1001, Message: "x"}, false},
		{"400 other", &Error{Kind: Rejected, Status: 400, Code: 300, Message: "Invalid parameter"}, false},
		{"assigned", &Error{Kind: Assigned, Status: 400, Code: CodeNumberAssigned, Message: "is assigned"}, false},
		{"403 with a 'not found' message is not a 400", &Error{Kind: Rejected, Status: 403, Message: "not found"}, false},
		{"throttled", &Error{Kind: Throttled, Status: 429}, false},
		{"not a zoom error", errString("does not exist"), false},
	}
	for _, tt := range tests {
		if got := missing(tt.err); got != tt.want {
			t.Errorf("%s: missing = %v", tt.name, got)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestLimitsShare(t *testing.T) {
	tests := []struct {
		limits  Limits
		percent int
		want    Limits
	}{
		{ProLimits(), 50, Limits{Light: 10, Medium: 5, Heavy: 2}},
		{BusinessLimits(), 50, Limits{Light: 20, Medium: 10, Heavy: 5}},
		{ProLimits(), 100, ProLimits()},
		{ProLimits(), 5, Limits{Light: 1, Medium: 1, Heavy: 1}},
	}
	for _, tt := range tests {
		if got := tt.limits.Share(tt.percent); got != tt.want {
			t.Errorf("%v.Share(%d) = %v, want %v", tt.limits, tt.percent, got, tt.want)
		}
	}
}
