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
				if got := c.endpoint("/phone/numbers", nil); got != "https://api.zoom.us/v2/phone/numbers" {
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
		in   string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Fatalf("parseRetryAfter(%q) = %v; want %v", tt.in, got, tt.want)
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
	e := &Error{Kind: Throttled, Status: 429, Code: 429, Message: "slow down", RetryAfter: 3 * time.Second, op: "GET /phone/numbers"}
	const want = "zoom GET /phone/numbers: throttled (HTTP 429, code 429): slow down (retry after 3s)"
	if e.Error() != want {
		t.Fatalf("Error() = %q; want %q", e.Error(), want)
	}
	if KindOf(nil) != Unknown || KindOf(e) != Throttled || !Throttled.Retryable() || Assigned.Retryable() {
		t.Fatal("KindOf / Retryable")
	}
}
