package stack

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"numberrelease/shared/secrets"
	"numberrelease/shared/zoom"
)

// The Zoom secret is created with a fixed, credential-free value and never
// generated: a generator whose settings change later would make
// CloudFormation replace the value, overwriting the credentials operators
// stored with put-secret-value.
func TestZoomSecretIsAFixedPlaceholder(t *testing.T) {
	for _, cfg := range []Config{dev, prod} {
		t.Run(cfg.Stage, func(t *testing.T) {
			s := synthStack(t, cfg)
			secretsFound := s.ofType("AWS::SecretsManager::Secret")
			if len(secretsFound) != 1 {
				t.Fatalf("%d secrets, want 1", len(secretsFound))
			}
			for id, props := range secretsFound {
				if gen, ok := props["GenerateSecretString"]; ok {
					t.Errorf("%s: GenerateSecretString %s: a changed generator regenerates the value over the real credentials", id, jsonString(t, gen))
				}
				if props["SecretString"] != zoomSecretPlaceholder {
					t.Errorf("%s: SecretString = %s, want the placeholder %s", id, jsonString(t, props["SecretString"]), zoomSecretPlaceholder)
				}
				// It says whose app it holds in each mode.
				d, _ := props["Description"].(string)
				for _, part := range []string{"Customer mode: the Zoom OAuth app (user-managed, authorization code", "carrier mode: the carrier's Server-to-Server OAuth app"} {
					if !strings.Contains(d, part) {
						t.Errorf("%s: Description %q does not say %q", id, d, part)
					}
				}
				want := map[bool]string{true: "Retain", false: "Delete"}[cfg.Production]
				if got := s.resources[id]["DeletionPolicy"]; got != want {
					t.Errorf("%s: DeletionPolicy = %v, want %s", id, got, want)
				}
			}
		})
	}
}

// placeholderSM answers every GetSecretValue with the stack's placeholder,
// as Secrets Manager does until operators put the real credentials.
type placeholderSM struct{}

func (placeholderSM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{Name: in.SecretId, SecretString: aws.String(zoomSecretPlaceholder)}, nil
}

var _ secrets.SecretsManager = placeholderSM{}

// Until operators store the credentials, the functions reading the
// placeholder fail with an error naming what is missing, not a crash, and
// the placeholder holds no credential.
func TestZoomSecretPlaceholderFailsClearly(t *testing.T) {
	var members map[string]any
	if err := json.Unmarshal([]byte(zoomSecretPlaceholder), &members); err != nil {
		t.Fatalf("the placeholder is not JSON: %v", err)
	}
	if got, want := slices.Sorted(maps.Keys(members)), []string{"client_id", "client_secret", "webhook_secret_token"}; !slices.Equal(got, want) {
		t.Errorf("placeholder members %v, want %v (what release-tasks and webhook read)", got, want)
	}
	for k, v := range members {
		if v != "" {
			t.Errorf("placeholder member %s = %v: it must hold no value", k, v)
		}
	}

	const arn = "arn:aws:secretsmanager:us-east-1:111122223333:secret:zoom"
	cached := &secrets.Cached{Client: placeholderSM{}, SecretID: arn}
	// The webhook reads webhook_secret_token (functions/webhook), release-tasks
	// client_id and client_secret (functions/release-tasks).
	for _, member := range []string{"webhook_secret_token", "client_id", "client_secret"} {
		t.Run(member, func(t *testing.T) {
			_, err := cached.Field(context.Background(), member)
			if err == nil || !strings.Contains(err.Error(), `"`+member+`"`) {
				t.Errorf("Field(%s) = %v, want an error naming the member", member, err)
			}
		})
	}
	t.Run("release-tasks' Zoom client", func(t *testing.T) {
		zc := &zoom.Lazy{
			Config: zoom.Config{APIBase: "https://api.zoom.us/v2", OAuthURL: "https://zoom.us/oauth/token"},
			Credentials: func(ctx context.Context) (string, string, error) {
				m, err := cached.Get(ctx)
				if err != nil {
					return "", "", err
				}
				return m["client_id"], m["client_secret"], nil
			},
		}
		_, err := zc.FindNumber(context.Background(), "acct", "+15550100")
		if zoom.KindOf(err) != zoom.BadCredentials || !strings.Contains(err.Error(), "client ID and client secret") {
			t.Errorf("FindNumber with the placeholder = %v, want BadCredentials naming the client ID and secret", err)
		}
	})
}
