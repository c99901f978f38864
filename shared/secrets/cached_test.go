package secrets_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"numberrelease/shared/secrets"
)

const secretID = "arn:aws:secretsmanager:us-east-1:1:secret:zoom"

var t0 = time.Unix(1_764_200_000, 0)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeSM answers GetSecretValue from a script of results, one per call (the
// last one repeats).
type fakeSM struct {
	mu      sync.Mutex
	results []smResult
	calls   int
}

type smResult struct {
	value string // SecretString; "" means none
	err   error
}

func (f *fakeSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.results[min(f.calls, len(f.results)-1)]
	f.calls++
	if r.err != nil {
		return nil, r.err
	}
	out := &secretsmanager.GetSecretValueOutput{Name: in.SecretId}
	if r.value != "" {
		out.SecretString = aws.String(r.value)
	}
	return out, nil
}

func newCached(sm *fakeSM, ttl time.Duration, now *time.Time) *secrets.Cached {
	return &secrets.Cached{Client: sm, SecretID: secretID, TTL: ttl,
		Now: func() time.Time { return *now }, Log: discard()}
}

// TestCachedLoading drives the cache through Field, the way the webhook
// reads its token.
func TestCachedLoading(t *testing.T) {
	down := errors.New("service unavailable")
	type step struct {
		advance   time.Duration
		want      string // "" means an error
		wantCalls int
	}
	tests := []struct {
		name    string
		ttl     time.Duration
		results []smResult
		steps   []step
	}{
		{
			name:    "loaded once and cached",
			results: []smResult{{value: `{"webhook_secret_token":"s1"}`}},
			steps:   []step{{want: "s1", wantCalls: 1}, {advance: 24 * time.Hour, want: "s1", wantCalls: 1}},
		},
		{
			name:    "a failed first load is retried by the next request",
			results: []smResult{{err: down}, {value: `{"webhook_secret_token":"s1"}`}},
			steps:   []step{{want: "", wantCalls: 1}, {want: "s1", wantCalls: 2}, {want: "s1", wantCalls: 2}},
		},
		{
			name:    "refreshed after the TTL",
			ttl:     time.Minute,
			results: []smResult{{value: `{"webhook_secret_token":"s1"}`}, {value: `{"webhook_secret_token":"s2"}`}},
			steps:   []step{{want: "s1", wantCalls: 1}, {advance: 30 * time.Second, want: "s1", wantCalls: 1}, {advance: time.Minute, want: "s2", wantCalls: 2}},
		},
		{
			name:    "a failed refresh keeps the cached token",
			ttl:     time.Minute,
			results: []smResult{{value: `{"webhook_secret_token":"s1"}`}, {err: down}},
			steps:   []step{{want: "s1", wantCalls: 1}, {advance: 2 * time.Minute, want: "s1", wantCalls: 2}},
		},
		{
			name:    "not JSON",
			results: []smResult{{value: `plain-secret-value`}},
			steps:   []step{{want: "", wantCalls: 1}},
		},
		{
			name:    "JSON but not an object",
			results: []smResult{{value: `null`}, {value: `["plain-secret-value"]`}},
			steps:   []step{{want: "", wantCalls: 1}, {want: "", wantCalls: 2}},
		},
		{
			name:    "member missing",
			results: []smResult{{value: `{"token":"plain-secret-value"}`}},
			steps:   []step{{want: "", wantCalls: 1}},
		},
		{
			name:    "binary secret",
			results: []smResult{{value: ""}},
			steps:   []step{{want: "", wantCalls: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			sm := &fakeSM{results: tt.results}
			c := newCached(sm, tt.ttl, &now)
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				got, err := c.Field(context.Background(), "webhook_secret_token")
				switch {
				case s.want == "" && err == nil:
					t.Fatalf("step %d: Field = %q; want an error", i, got)
				case s.want != "" && (err != nil || got != s.want):
					t.Fatalf("step %d: Field = %q, %v; want %q", i, got, err, s.want)
				}
				if err != nil && strings.Contains(err.Error(), "plain-secret-value") {
					t.Fatalf("step %d: error quotes the secret: %v", i, err)
				}
				if sm.calls != s.wantCalls {
					t.Fatalf("step %d: GetSecretValue calls = %d; want %d", i, sm.calls, s.wantCalls)
				}
			}
		})
	}
}

func TestCachedGet(t *testing.T) {
	now := t0
	sm := &fakeSM{results: []smResult{{value: `{"client_id":"id-1","client_secret":"sec-1","blank":"","n":42,"o":{"x":"y"},"nil":null}`}}}
	c := newCached(sm, 0, &now)
	got, err := c.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"client_id": "id-1", "client_secret": "sec-1", "blank": ""}
	if !maps.Equal(got, want) {
		t.Fatalf("Get = %v; want %v (string members only)", got, want)
	}
	got["client_id"] = "changed by the caller"
	again, err := c.Get(context.Background())
	if err != nil || again["client_id"] != "id-1" {
		t.Fatalf("second Get = %v, %v; the caller's change leaked into the cache", again, err)
	}
	if sm.calls != 1 {
		t.Fatalf("GetSecretValue calls = %d; want 1", sm.calls)
	}
}

func TestCachedField(t *testing.T) {
	tests := []struct {
		name, field string
		want        string // "" means an error
		wantErr     string // a substring of the error
	}{
		{"present", "client_secret", "plain-secret-value", ""},
		{"missing", "webhook_secret_token", "", `"webhook_secret_token"`},
		{"empty", "blank", "", `"blank"`},
		{"not a string", "n", "", `"n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0
			sm := &fakeSM{results: []smResult{{value: `{"client_id":"id-1","client_secret":"plain-secret-value","blank":"","n":42}`}}}
			c := newCached(sm, 0, &now)
			got, err := c.Field(context.Background(), tt.field)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("Field = %q, %v; want %q", got, err, tt.want)
				}
			} else {
				if err == nil {
					t.Fatalf("Field = %q; want an error", got)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not name the member %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "plain-secret-value") || strings.Contains(err.Error(), "id-1") {
					t.Fatalf("error quotes a secret value: %v", err)
				}
			}
			b, berr := c.Bytes(tt.field)(context.Background())
			if string(b) != tt.want || (berr != nil) != (err != nil) {
				t.Fatalf("Bytes = %q, %v; want the same as Field (%q, %v)", b, berr, got, err)
			}
			if sm.calls != 1 {
				t.Fatalf("GetSecretValue calls = %d; want 1", sm.calls)
			}
		})
	}
}

func TestCachedConcurrentFirstUse(t *testing.T) {
	now := t0
	sm := &fakeSM{results: []smResult{{value: `{"webhook_secret_token":"s1"}`}}}
	c := &secrets.Cached{Client: sm, SecretID: secretID, Now: func() time.Time { return now }, Log: discard()}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if v, err := c.Field(context.Background(), "webhook_secret_token"); err != nil || v != "s1" {
				t.Errorf("Field = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	if sm.calls != 1 {
		t.Fatalf("GetSecretValue calls = %d; want 1", sm.calls)
	}
}
