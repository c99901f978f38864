package envelope_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"numberrelease/shared/envelope"
	"numberrelease/shared/harness/emulatortest"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// fakeKMS hands out random data keys whose "ciphertext" names the key and
// opens one only with the encryption context it was made under, as KMS
// does. GenerateDataKey fails with genErr when set.
type fakeKMS struct {
	mu     sync.Mutex
	keys   map[string]fakeKey
	genErr error
}

type fakeKey struct {
	plain []byte
	ctx   map[string]string
}

func (f *fakeKMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.genErr != nil {
		return nil, f.genErr
	}
	if f.keys == nil {
		f.keys = map[string]fakeKey{}
	}
	plain := make([]byte, 32)
	plain[0] = byte(len(f.keys) + 1)
	id := "data-key-" + string(rune('a'+len(f.keys)))
	f.keys[id] = fakeKey{plain: bytes.Clone(plain), ctx: maps.Clone(in.EncryptionContext)}
	return &kms.GenerateDataKeyOutput{Plaintext: plain, CiphertextBlob: []byte(id)}, nil
}

func (f *fakeKMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[string(in.CiphertextBlob)]
	if !ok || !maps.Equal(k.ctx, in.EncryptionContext) {
		return nil, errors.New("InvalidCiphertextException")
	}
	return &kms.DecryptOutput{Plaintext: bytes.Clone(k.plain)}, nil
}

var (
	tokens  = envelope.Context{Purpose: "zoom-oauth-tokens", OwnerKey: "zoom_account_id", Owner: "zoom-acme"}
	webhook = envelope.Context{Purpose: "webhook-signing-secret", OwnerKey: "provider_id", Owner: "pxc"}
)

// A value opens with the context it was sealed with and no other, and the
// sealed form never holds it in the clear.
func TestSealOpensOnlyWithItsContext(t *testing.T) {
	ctx := context.Background()
	s := envelope.Sealer{KMS: &fakeKMS{}, KeyID: "alias/test"}
	secret := []byte("whsec_the-secret-value")
	b, err := s.Seal(ctx, webhook, secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, secret) {
		t.Fatalf("sealed value %s holds the secret in the clear", b)
	}
	tests := []struct {
		name  string
		ec    envelope.Context
		opens bool
	}{
		{"same context", webhook, true},
		{"another owner", envelope.Context{Purpose: webhook.Purpose, OwnerKey: webhook.OwnerKey, Owner: "other"}, false},
		{"another purpose", envelope.Context{Purpose: tokens.Purpose, OwnerKey: webhook.OwnerKey, Owner: webhook.Owner}, false},
		{"another owner key", envelope.Context{Purpose: webhook.Purpose, OwnerKey: tokens.OwnerKey, Owner: webhook.Owner}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(ctx, tt.ec, b)
			if tt.opens && (err != nil || !bytes.Equal(got, secret)) {
				t.Fatalf("open: %q, %v; want %q", got, err, secret)
			}
			if !tt.opens && err == nil {
				t.Fatalf("opened with %+v: %q", tt.ec, got)
			}
		})
	}
}

// Every seal asks KMS for a fresh data key under the value's context.
func TestSealTakesAFreshDataKey(t *testing.T) {
	ctx := context.Background()
	k := &fakeKMS{}
	s := envelope.Sealer{KMS: k, KeyID: "alias/test"}
	for range 2 {
		if _, err := s.Seal(ctx, tokens, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"purpose": "zoom-oauth-tokens", "zoom_account_id": "zoom-acme"}
	if len(k.keys) != 2 {
		t.Fatalf("%d data keys for 2 seals; want 2", len(k.keys))
	}
	for id, key := range k.keys {
		if !maps.Equal(key.ctx, want) {
			t.Errorf("data key %s made under %v; want %v", id, key.ctx, want)
		}
	}
}

// Values sealed before this package existed, by zoomauth.Sealer and
// webhooks.SecretBox (the same JSON of base64 fields k, n, c; AES-GCM with
// the owner as additional data), still open. The data key was 0x01…0x20,
// its "ciphertext" the bytes "wrapped-data-key".
func TestOpensValuesSealedBeforeThePackage(t *testing.T) {
	tests := []struct {
		name   string
		ec     envelope.Context
		sealed string
		want   string
	}{
		{"zoomauth.Sealer", tokens,
			`{"k":"d3JhcHBlZC1kYXRhLWtleQ==","n":"cJioSes3jMQD7jxh","c":"TtMyNljmppL2MUA8zQw01YEHaFVXXEi824JtycWrPucDFMWBdsax+LH+5UL/86dGtTPOEbtgGRl6C8RSGfu2IPfyGpEoyUjLvdf4KxoyAiKxZCf58LDfpfBDLddiEZGR/iJML775ra3CjAw="}`,
			`{"access_token":"access-1","refresh_token":"refresh-1","expires_at":"2026-01-02T03:04:05Z"}`},
		{"webhooks.SecretBox", webhook,
			`{"k":"d3JhcHBlZC1kYXRhLWtleQ==","n":"oHCyJL8ZBctgPt1f","c":"3Z+bt8yJJDpIFus8CsVql/8ooZbStNzoX1ZvjplJ"}`,
			`whsec_c2VjcmV0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := make([]byte, 32)
			for i := range key {
				key[i] = byte(i + 1)
			}
			k := &fakeKMS{keys: map[string]fakeKey{"wrapped-data-key": {plain: key, ctx: map[string]string{"purpose": tt.ec.Purpose, tt.ec.OwnerKey: tt.ec.Owner}}}}
			got, err := envelope.Sealer{KMS: k, KeyID: "alias/test"}.Open(context.Background(), tt.ec, []byte(tt.sealed))
			if err != nil || string(got) != tt.want {
				t.Fatalf("open: %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// What is not an intact sealed value is refused with an error, never a
// panic.
func TestOpenRefusesDamagedValues(t *testing.T) {
	ctx := context.Background()
	s := envelope.Sealer{KMS: &fakeKMS{}, KeyID: "alias/test"}
	good, err := s.Seal(ctx, tokens, []byte("tokens"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sealed, wantErr string
	}{
		{"empty", ``, "not a sealed value"},
		{"not JSON", `tokens`, "not a sealed value"},
		{"no data key", `{"n":"AAAAAAAAAAAAAAAA","c":"AAAA"}`, "not a sealed value"},
		{"unknown data key", strings.Replace(string(good), `"k":"`, `"k":"AAAA`, 1), "decrypt data key"},
		{"short nonce", replaceField(t, good, "n", `"AAAA"`), "does not authenticate"},
		{"altered box", replaceField(t, good, "c", `"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"`), "does not authenticate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Open(ctx, tokens, []byte(tt.sealed))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("open: %q, %v; want an error saying %q", got, err, tt.wantErr)
			}
		})
	}
}

// replaceField returns the sealed JSON b with field name's value replaced
// by the JSON value v.
func replaceField(t *testing.T, b []byte, name, v string) string {
	t.Helper()
	s := string(b)
	i := strings.Index(s, `"`+name+`":"`)
	if i < 0 {
		t.Fatalf("no field %q in %s", name, s)
	}
	start := i + len(name) + 3
	end := start + strings.IndexByte(s[start+1:], '"') + 2
	return s[:start] + v + s[end:]
}

// A failing KMS is reported as such, its error kept.
func TestSealReportsKMSFailure(t *testing.T) {
	denied := errors.New("AccessDeniedException")
	s := envelope.Sealer{KMS: &fakeKMS{genErr: denied}, KeyID: "alias/test"}
	_, err := s.Seal(context.Background(), tokens, []byte("x"))
	if !errors.Is(err, denied) || !strings.Contains(err.Error(), "generate data key") {
		t.Fatalf("seal: %v; want generate data key: %v", err, denied)
	}
}

// On the emulator's KMS (moto), which binds the data key to its
// encryption context as AWS does, a value opens with its own context only.
func TestSealOnEmulatorKMS(t *testing.T) {
	ctx := context.Background()
	srv := emulatortest.Server(t)
	k := kms.NewFromConfig(srv.AWSConfig(), func(o *kms.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	s := envelope.Sealer{KMS: k, KeyID: aws.ToString(key.KeyMetadata.Arn)}
	b, err := s.Seal(ctx, webhook, []byte("whsec_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(ctx, webhook, b); err != nil || string(got) != "whsec_secret" {
		t.Fatalf("open: %q, %v; want whsec_secret", got, err)
	}
	other := webhook
	other.Purpose = tokens.Purpose
	if got, err := s.Open(ctx, other, b); err == nil {
		t.Fatalf("opened under another purpose: %q", got)
	}
}
