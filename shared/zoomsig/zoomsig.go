// Package zoomsig computes and checks Zoom's webhook signatures:
// x-zm-signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}")),
// with x-zm-request-timestamp in Unix seconds. The Zoom simulator signs with
// it and the webhook function verifies with it, so both follow one rule.
package zoomsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Header names Zoom uses.
const (
	HeaderSignature = "x-zm-signature"
	HeaderTimestamp = "x-zm-request-timestamp"
)

// DefaultTolerance is how far a timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	ErrMissing   = errors.New("missing x-zm-signature or x-zm-request-timestamp")
	ErrStale     = errors.New("request timestamp outside the accepted window")
	ErrSignature = errors.New("signature does not match")
)

// Sign returns the x-zm-signature value for a body sent at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	return "v0=" + hex.EncodeToString(mac(secret, []byte("v0:"+strconv.FormatInt(ts.Unix(), 10)+":"), body))
}

// Verify checks a signature and its timestamp in constant time.
func Verify(secret []byte, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	if signature == "" || timestamp == "" {
		return ErrMissing
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	want := "v0=" + hex.EncodeToString(mac(secret, []byte("v0:"+timestamp+":"), body))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrSignature
	}
	return nil
}

// EncryptedToken answers Zoom's endpoint.url_validation challenge.
func EncryptedToken(secret []byte, plainToken string) string {
	return hex.EncodeToString(mac(secret, []byte(plainToken)))
}

func mac(secret []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, secret)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
