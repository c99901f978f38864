package webhooks

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
)

// Purpose is the encryption context's "purpose" of a sealed signing
// secret: the functions' KMS grants require it, so a role allowed to open
// webhook secrets cannot open Zoom tokens with the same key, nor the other
// way round.
const Purpose = "webhook-signing-secret"

// KMS is what sealing needs from AWS KMS.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// SecretBox seals a provider's signing secret by envelope encryption, as
// the Zoom tokens are sealed (shared/zoomauth): a fresh data key from KMS
// per seal, AES-256-GCM, the data key kept only as KMS ciphertext. The
// encryption context names the purpose and the provider, so a sealed
// secret copied to another provider's registration does not open.
type SecretBox struct {
	KMS   KMS
	KeyID string
}

type sealed struct {
	Key   []byte `json:"k"`
	Nonce []byte `json:"n"`
	Box   []byte `json:"c"`
}

func encryptionContext(providerID string) map[string]string {
	return map[string]string{"purpose": Purpose, "provider_id": providerID}
}

// Seal encrypts secret for providerID.
func (s *SecretBox) Seal(ctx context.Context, providerID, secret string) ([]byte, error) {
	dk, err := s.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(s.KeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: encryptionContext(providerID),
	})
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: generate data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal webhook secret: nonce: %w", err)
	}
	out, err := json.Marshal(sealed{Key: dk.CiphertextBlob, Nonce: nonce, Box: gcm.Seal(nil, nonce, []byte(secret), []byte(providerID))})
	if err != nil {
		return nil, fmt.Errorf("seal webhook secret: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal returned for providerID.
func (s *SecretBox) Open(ctx context.Context, providerID string, b []byte) (string, error) {
	var sl sealed
	if err := json.Unmarshal(b, &sl); err != nil || len(sl.Key) == 0 {
		return "", errors.New("open webhook secret: not a sealed value")
	}
	dk, err := s.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(s.KeyID), CiphertextBlob: sl.Key, EncryptionContext: encryptionContext(providerID),
	})
	if err != nil {
		return "", fmt.Errorf("open webhook secret: decrypt data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return "", err
	}
	plain, err := gcm.Open(nil, sl.Nonce, sl.Box, []byte(providerID))
	if err != nil {
		return "", errors.New("open webhook secret: sealed value does not authenticate")
	}
	return string(plain), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook secret cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook secret cipher: %w", err)
	}
	return gcm, nil
}
