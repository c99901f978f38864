package webhooks

import (
	"context"
	"fmt"

	"numberrelease/shared/envelope"
)

// Purpose is the encryption context's "purpose" of a sealed signing
// secret: the functions' KMS grants require it, so a role allowed to open
// webhook secrets cannot open Zoom tokens with the same key, nor the other
// way round.
const Purpose = "webhook-signing-secret"

// SecretBox seals a provider's signing secret by envelope encryption
// (shared/envelope), as the Zoom tokens are sealed. The encryption context
// names the purpose and the provider, so a sealed secret copied to another
// provider's registration does not open.
type SecretBox struct {
	KMS   envelope.KMS
	KeyID string
}

func (s *SecretBox) envelope() envelope.Sealer { return envelope.Sealer{KMS: s.KMS, KeyID: s.KeyID} }

func encryptionContext(providerID string) envelope.Context {
	return envelope.Context{Purpose: Purpose, OwnerKey: "provider_id", Owner: providerID}
}

// Seal encrypts secret for providerID.
func (s *SecretBox) Seal(ctx context.Context, providerID, secret string) ([]byte, error) {
	out, err := s.envelope().Seal(ctx, encryptionContext(providerID), []byte(secret))
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal returned for providerID.
func (s *SecretBox) Open(ctx context.Context, providerID string, b []byte) (string, error) {
	plain, err := s.envelope().Open(ctx, encryptionContext(providerID), b)
	if err != nil {
		return "", fmt.Errorf("open webhook secret: %w", err)
	}
	return string(plain), nil
}
