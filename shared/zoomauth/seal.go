package zoomauth

import (
	"context"
	"encoding/json"
	"fmt"

	"numberrelease/shared/envelope"
	"numberrelease/shared/zoom"
)

// Purpose is the encryption context's "purpose": the key policy may allow
// the key for this use only.
const Purpose = "zoom-oauth-tokens"

// Sealer seals an account's tokens by envelope encryption
// (shared/envelope). The encryption context names the purpose and the
// Zoom account, so a sealed value copied to another account's grant does
// not open.
type Sealer struct {
	KMS   envelope.KMS
	KeyID string
}

func (s *Sealer) envelope() envelope.Sealer { return envelope.Sealer{KMS: s.KMS, KeyID: s.KeyID} }

func encryptionContext(accountID string) envelope.Context {
	return envelope.Context{Purpose: Purpose, OwnerKey: "zoom_account_id", Owner: accountID}
}

// Seal encrypts t for accountID.
func (s *Sealer) Seal(ctx context.Context, accountID string, t zoom.UserTokens) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("seal tokens: %w", err)
	}
	out, err := s.envelope().Seal(ctx, encryptionContext(accountID), plain)
	if err != nil {
		return nil, fmt.Errorf("seal tokens: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal returned for accountID.
func (s *Sealer) Open(ctx context.Context, accountID string, b []byte) (zoom.UserTokens, error) {
	plain, err := s.envelope().Open(ctx, encryptionContext(accountID), b)
	if err != nil {
		return zoom.UserTokens{}, fmt.Errorf("open tokens: %w", err)
	}
	var t zoom.UserTokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return zoom.UserTokens{}, fmt.Errorf("open tokens: %w", err)
	}
	return t, nil
}
