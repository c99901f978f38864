// Package secrets reads a JSON secret from AWS Secrets Manager on first use
// and caches it for a warm Lambda.
package secrets

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsManager is the part of the Secrets Manager API Cached uses.
type SecretsManager interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ SecretsManager = (*secretsmanager.Client)(nil)

// Cached loads a secret whose SecretString is a JSON object, e.g.
// {"client_id":"...","client_secret":"..."}, on first use (not at start, so
// a cold start does not pay for it until it is needed) and caches its string
// members.
//
// A failed first load is not cached: the next call tries again. After TTL
// the secret is read again so a rotated value is picked up; if that read
// fails, the cached values keep being used and the failure is logged.
// No error or log line quotes a secret value. Cached is safe for
// concurrent use.
type Cached struct {
	Client   SecretsManager
	SecretID string
	// TTL is how long loaded values are used before the secret is read
	// again; zero keeps them for the life of the process.
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives refresh failures (default slog.Default()).
	Log *slog.Logger

	mu       sync.Mutex
	values   map[string]string // nil until the first successful load
	loadedAt time.Time
}

// Get returns the string members of the secret's JSON object (members of
// other types are left out), loading the secret when needed. The map is the
// caller's own copy.
func (c *Cached) Get(ctx context.Context) (map[string]string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.values != nil && (c.TTL <= 0 || now().Sub(c.loadedAt) < c.TTL) {
		return maps.Clone(c.values), nil
	}
	values, err := c.load(ctx)
	if err != nil {
		if c.values == nil {
			return nil, err
		}
		log := c.Log
		if log == nil {
			log = slog.Default()
		}
		log.WarnContext(ctx, "refresh of a secret failed; keeping the cached one", "secret_id", c.SecretID, "err", err)
		return maps.Clone(c.values), nil
	}
	c.values, c.loadedAt = values, now()
	return maps.Clone(values), nil
}

// Field returns the secret's string member name. A missing, empty or
// non-string member is an error naming the member (never quoting a value).
func (c *Cached) Field(ctx context.Context, name string) (string, error) {
	values, err := c.Get(ctx)
	if err != nil {
		return "", err
	}
	v := values[name]
	if v == "" {
		return "", fmt.Errorf("secret %s: SecretString has no non-empty string member %q", c.SecretID, name)
	}
	return v, nil
}

// Bytes returns a function that yields Field(ctx, name) as bytes, e.g. for
// zoomhook.Config.SecretFunc.
func (c *Cached) Bytes(name string) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		v, err := c.Field(ctx, name)
		if err != nil {
			return nil, err
		}
		return []byte(v), nil
	}
}

func (c *Cached) load(ctx context.Context) (map[string]string, error) {
	out, err := c.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(c.SecretID)})
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", c.SecretID, err)
	}
	if out.SecretString == nil {
		return nil, fmt.Errorf("secret %s has no SecretString", c.SecretID)
	}
	var raw map[string]any
	// The unmarshal error text could quote the secret; do not pass it on.
	if err := json.Unmarshal([]byte(*out.SecretString), &raw); err != nil || raw == nil {
		return nil, fmt.Errorf("secret %s: SecretString is not a JSON object", c.SecretID)
	}
	values := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			values[k] = s
		}
	}
	return values, nil
}
