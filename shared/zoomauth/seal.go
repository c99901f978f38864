package zoomauth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"numberrelease/shared/zoom"
)

// Purpose is the encryption context's "purpose": the key policy may allow
// the key for this use only.
const Purpose = "zoom-oauth-tokens"

// KMS is what sealing needs from AWS KMS.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Sealer seals an account's tokens by envelope encryption: a fresh data
// key from KMS per seal, AES-256-GCM, and the data key kept only as KMS
// ciphertext beside them. The encryption context names the purpose and
// the Zoom account, so a sealed value copied to another account's grant
// does not open.
type Sealer struct {
	KMS   KMS
	KeyID string
}

// sealed is the stored form.
type sealed struct {
	Key   []byte `json:"k"` // the data key, encrypted by KMS
	Nonce []byte `json:"n"`
	Box   []byte `json:"c"` // AES-GCM of the tokens' JSON
}

func encryptionContext(accountID string) map[string]string {
	return map[string]string{"purpose": Purpose, "zoom_account_id": accountID}
}

// Seal encrypts t for accountID.
func (s *Sealer) Seal(ctx context.Context, accountID string, t zoom.UserTokens) ([]byte, error) {
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("seal tokens: %w", err)
	}
	dk, err := s.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(s.KeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: encryptionContext(accountID),
	})
	if err != nil {
		return nil, fmt.Errorf("seal tokens: generate data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal tokens: nonce: %w", err)
	}
	out, err := json.Marshal(sealed{Key: dk.CiphertextBlob, Nonce: nonce, Box: gcm.Seal(nil, nonce, plain, []byte(accountID))})
	if err != nil {
		return nil, fmt.Errorf("seal tokens: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal returned for accountID.
func (s *Sealer) Open(ctx context.Context, accountID string, b []byte) (zoom.UserTokens, error) {
	var sl sealed
	if err := json.Unmarshal(b, &sl); err != nil || len(sl.Key) == 0 {
		return zoom.UserTokens{}, errors.New("open tokens: not a sealed value")
	}
	dk, err := s.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(s.KeyID), CiphertextBlob: sl.Key, EncryptionContext: encryptionContext(accountID),
	})
	if err != nil {
		return zoom.UserTokens{}, fmt.Errorf("open tokens: decrypt data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return zoom.UserTokens{}, err
	}
	plain, err := gcm.Open(nil, sl.Nonce, sl.Box, []byte(accountID))
	if err != nil {
		return zoom.UserTokens{}, errors.New("open tokens: sealed value does not authenticate")
	}
	var t zoom.UserTokens
	if err := json.Unmarshal(plain, &t); err != nil {
		return zoom.UserTokens{}, fmt.Errorf("open tokens: %w", err)
	}
	return t, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tokens cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("tokens cipher: %w", err)
	}
	return gcm, nil
}
