package zoomsig

import (
	"errors"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("local-webhook-secret")
	now := time.Unix(1_764_200_000, 0)
	body := []byte(`{"event":"x"}`)
	sig := Sign(secret, now, body)
	ts := "1764200000"
	tests := []struct {
		name    string
		secret  []byte
		sig, ts string
		body    string
		now     time.Time
		want    error
	}{
		{"valid", secret, sig, ts, string(body), now, nil},
		{"valid within tolerance", secret, sig, ts, string(body), now.Add(4 * time.Minute), nil},
		{"stale", secret, sig, ts, string(body), now.Add(6 * time.Minute), ErrStale},
		{"from the future", secret, sig, ts, string(body), now.Add(-6 * time.Minute), ErrStale},
		{"body changed", secret, sig, ts, `{"event":"y"}`, now, ErrSignature},
		{"other secret", []byte("other"), sig, ts, string(body), now, ErrSignature},
		{"timestamp changed", secret, sig, "1764200001", string(body), now, ErrSignature},
		{"missing signature", secret, "", ts, string(body), now, ErrMissing},
		{"garbage timestamp", secret, sig, "soon", string(body), now, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.sig, tt.ts, []byte(tt.body), tt.now, DefaultTolerance)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v; want %v", err, tt.want)
			}
		})
	}
}

func TestEncryptedToken(t *testing.T) {
	// HMAC-SHA256(key "secret", message "plain"), hex, computed with Python's hmac.
	const want = "a237566e044b73e6a1e54bd59974547487fa5f8143025ce0d04d82e7ee4c5e34"
	if got := EncryptedToken([]byte("secret"), "plain"); got != want {
		t.Fatalf("EncryptedToken = %q; want %q", got, want)
	}
}
