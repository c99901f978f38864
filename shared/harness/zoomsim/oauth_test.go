package zoomsim_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestOAuthToken(t *testing.T) {
	e := newEnv(t)
	good := "grant_type=account_credentials&account_id=acct-a"
	tests := []struct {
		name       string
		id, secret string
		query      string
		wantStatus int
		wantError  string
	}{
		{"good credentials", clientID, clientSecret, good, http.StatusOK, ""},
		{"wrong secret", clientID, "nope", good, http.StatusUnauthorized, "invalid_client"},
		{"wrong id", "other", clientSecret, good, http.StatusUnauthorized, "invalid_client"},
		{"no credentials", "", "", good, http.StatusUnauthorized, "invalid_client"},
		{"wrong grant", clientID, clientSecret, "grant_type=client_credentials&account_id=acct-a", http.StatusBadRequest, "unsupported_grant_type"},
		{"missing account", clientID, clientSecret, "grant_type=account_credentials", http.StatusBadRequest, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.tokenRequest(t, tt.id, tt.secret, tt.query)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.wantStatus)
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("body %s: %v", r.body, err)
			}
			if tt.wantError != "" {
				if body["error"] != tt.wantError || body["reason"] == "" {
					t.Fatalf("body = %v; want error %q and a reason", body, tt.wantError)
				}
				if tt.wantError == "invalid_client" && body["reason"] != "Invalid client_id or client_secret" {
					t.Fatalf("reason = %v", body["reason"])
				}
				return
			}
			if tok, _ := body["access_token"].(string); tok == "" {
				t.Fatalf("no access_token in %v", body)
			}
			if body["token_type"] != "bearer" || body["expires_in"] != float64(3600) ||
				body["scope"] != "number_management:read:list_numbers:admin number_management:delete:numbers:admin number_management:delete:peering_number:admin" {
				t.Fatalf("token body = %v", body)
			}
		})
	}
	t.Run("tokens differ", func(t *testing.T) {
		if a, b := e.token(t, "acct-a"), e.token(t, "acct-a"); a == b {
			t.Fatal("two token requests returned the same token")
		}
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		if r := e.do(t, http.MethodGet, "/zoom-sim/oauth/token", "", ""); r.status != http.StatusMethodNotAllowed {
			t.Fatalf("status = %d; want 405", r.status)
		}
	})
}

func TestAPIAuth(t *testing.T) {
	e := newEnv(t)
	e.sim.Put("acct-a", "+97239754571", nil)
	tok := e.token(t, "acct-a")
	tests := []struct {
		name    string
		token   string
		advance time.Duration
		want    int
	}{
		{"valid token", tok, 0, http.StatusOK},
		{"no token", "", 0, http.StatusUnauthorized},
		{"unknown token", "sim.forged", 0, http.StatusUnauthorized},
		{"still valid just before expiry", tok, 59 * time.Minute, http.StatusOK},
		{"expired", tok, 2 * time.Minute, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			r := e.do(t, http.MethodGet, numbersPath, tt.token, "")
			if r.status != tt.want {
				t.Fatalf("status = %d (%s); want %d", r.status, r.body, tt.want)
			}
			if tt.want == http.StatusUnauthorized {
				if code, msg := r.zoomErr(t); code != 124 || msg != "Invalid access token." {
					t.Fatalf("error = %d %q", code, msg)
				}
			}
		})
	}
	t.Run("new token after expiry works", func(t *testing.T) {
		if r := e.do(t, http.MethodGet, numbersPath, e.token(t, "acct-a"), ""); r.status != http.StatusOK {
			t.Fatalf("status = %d", r.status)
		}
	})
}
