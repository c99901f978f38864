// Package envelope seals small secrets (a customer's Zoom tokens, a
// provider's webhook signing secret) by envelope encryption with AWS KMS:
// a fresh data key from KMS per seal, AES-256-GCM, and the data key kept
// only as KMS ciphertext beside the sealed value. An encryption context
// names what the value is (its purpose, on which the functions' IAM grants
// are conditioned) and whose it is, so a sealed value copied to another
// owner's item does not open.
package envelope

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

// PurposeKey is the encryption context's member that names what a sealed
// value is; the IAM grants test it (kms:EncryptionContext:purpose).
const PurposeKey = "purpose"

// KMS is what sealing needs from AWS KMS.
type KMS interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Context is the encryption context of one sealed value:
// {PurposeKey: Purpose, OwnerKey: Owner}. Owner is also the AES-GCM
// additional data.
type Context struct {
	Purpose  string // e.g. "webhook-signing-secret"
	OwnerKey string // e.g. "provider_id"
	Owner    string // e.g. the provider's id
}

func (c Context) kms() map[string]string {
	return map[string]string{PurposeKey: c.Purpose, c.OwnerKey: c.Owner}
}

// Sealer seals and opens values with the KMS key KeyID.
type Sealer struct {
	KMS   KMS
	KeyID string
}

// sealed is the stored form: JSON, each field base64 (standard, padded).
// Values already in the table have this form; do not change it.
type sealed struct {
	Key   []byte `json:"k"` // the data key, encrypted by KMS under the context
	Nonce []byte `json:"n"` // the AES-GCM nonce (12 bytes)
	Box   []byte `json:"c"` // AES-GCM of the plaintext, additional data Owner
}

// Seal encrypts plain for ec.
func (s Sealer) Seal(ctx context.Context, ec Context, plain []byte) ([]byte, error) {
	dk, err := s.KMS.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId: aws.String(s.KeyID), KeySpec: kmstypes.DataKeySpecAes256, EncryptionContext: ec.kms(),
	})
	if err != nil {
		return nil, fmt.Errorf("generate data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	out, err := json.Marshal(sealed{Key: dk.CiphertextBlob, Nonce: nonce, Box: gcm.Seal(nil, nonce, plain, []byte(ec.Owner))})
	if err != nil {
		return nil, fmt.Errorf("encode sealed value: %w", err)
	}
	return out, nil
}

// Open decrypts what Seal returned for the same ec.
func (s Sealer) Open(ctx context.Context, ec Context, b []byte) ([]byte, error) {
	var sl sealed
	if err := json.Unmarshal(b, &sl); err != nil || len(sl.Key) == 0 {
		return nil, errors.New("not a sealed value")
	}
	dk, err := s.KMS.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(s.KeyID), CiphertextBlob: sl.Key, EncryptionContext: ec.kms(),
	})
	if err != nil {
		return nil, fmt.Errorf("decrypt data key: %w", err)
	}
	gcm, err := newGCM(dk.Plaintext)
	clear(dk.Plaintext)
	if err != nil {
		return nil, err
	}
	if len(sl.Nonce) != gcm.NonceSize() { // gcm.Open would panic
		return nil, errors.New("sealed value does not authenticate")
	}
	plain, err := gcm.Open(nil, sl.Nonce, sl.Box, []byte(ec.Owner))
	if err != nil {
		return nil, errors.New("sealed value does not authenticate")
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("data key cipher: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key cipher: %w", err)
	}
	return gcm, nil
}
