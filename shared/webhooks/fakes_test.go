package webhooks

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/harness/emulatortest"
	"numberrelease/shared/notify"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fakeKMS hands out data keys whose "ciphertext" is the key bound to its
// encryption context, and opens only with the same context.
type fakeKMS struct {
	mu   sync.Mutex
	keys map[string]struct {
		plain []byte
		ctx   map[string]string
	}
	n int
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[string]struct {
			plain []byte
			ctx   map[string]string
		}{}
	}
	f.n++
	plain := make([]byte, 32)
	plain[0] = byte(f.n)
	id := string(rune('a' + f.n))
	f.keys[id] = struct {
		plain []byte
		ctx   map[string]string
	}{append([]byte(nil), plain...), maps.Clone(in.EncryptionContext)}
	return &kms.GenerateDataKeyOutput{Plaintext: plain, CiphertextBlob: []byte(id)}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[string(in.CiphertextBlob)]
	if !ok || !maps.Equal(k.ctx, in.EncryptionContext) {
		return nil, errors.New("InvalidCiphertextException")
	}
	return &kms.DecryptOutput{Plaintext: append([]byte(nil), k.plain...)}, nil
}

// fakeQueue records the visibility timeouts set.
type fakeQueue struct {
	mu      sync.Mutex
	timeout map[string]int32
}

func (q *fakeQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.timeout == nil {
		q.timeout = map[string]int32{}
	}
	q.timeout[aws.ToString(in.ReceiptHandle)] = in.VisibilityTimeout
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func testDetail(provider, to string) notify.Detail {
	return notify.Detail{CustomerID: "acme", Number: "+97239754569", ProviderID: provider, Version: 3, Attempt: 1,
		At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Actor: "system", From: "RELEASING", To: to,
		Why: "released in Zoom", RequestID: "rr_1"}
}
