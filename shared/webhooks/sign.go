// Package webhooks delivers every status change of a provider's numbers to
// the HTTPS endpoint the provider registered, signed as Standard Webhooks
// (https://www.standardwebhooks.com) describes: headers webhook-id,
// webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256 of
// id.timestamp.body>" keyed with the secret's decoded bytes).
//
// The pieces: the registration and its delivery log in the table
// (Registrations), the signing secret sealed with KMS (SecretBox), the
// endpoint checks against server-side request forgery (CheckURL at
// registration, Dialer at every delivery), the HTTP sender (Sender), the
// provider's API use cases (Service) and the consumer of the delivery
// queue (Deliverer), which retries with exponential backoff (Backoff)
// through the queue's visibility timeout.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SecretPrefix begins every signing secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// secretBytes is the length of a generated secret's key.
const secretBytes = 32

// NewSecret returns a fresh signing secret: SecretPrefix and the standard
// base64 of 32 random bytes.
func NewSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// DecodeSecret returns the key bytes of a secret ("whsec_<base64>"; the
// prefix is optional, as in the reference libraries).
func DecodeSecret(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errors.New("webhook secret is not whsec_ followed by base64")
	}
	return key, nil
}

// Sign returns the webhook-signature header value of one attempt:
// "v1," and the base64 HMAC-SHA256 of "<id>.<timestamp>.<body>".
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verify reports whether one of the space-separated signatures of header
// (webhook-signature) is body's signature with key. It is what a receiver
// does (docs/API.md), kept here for the tests and the documentation's
// example; it does not check the timestamp's age.
func Verify(key []byte, id string, timestamp int64, body []byte, header string) bool {
	want := Sign(key, id, timestamp, body)
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}
