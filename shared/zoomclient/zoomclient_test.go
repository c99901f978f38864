package zoomclient

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"numberrelease/shared/domain"
	"numberrelease/shared/zoom"
)

// Each mode needs its own environment, and a missing variable is named.
func TestFromEnvNeedsWhatItsModeUses(t *testing.T) {
	base := map[string]string{
		"ZOOM_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:zoom", "ZOOM_API_BASE": "https://api.zoom.us/v2",
		"ZOOM_OAUTH_URL": "https://zoom.us/oauth/token",
	}
	tests := []struct {
		name      string
		mode      domain.ReleaseMode
		key       string
		wantErr   string
		wantOwnTk bool // the client calls with the customers' own tokens
	}{
		{"customer mode without the tokens key", domain.ModeCustomer, "", "ZOOM_TOKENS_KEY_ARN", false},
		{"customer mode", domain.ModeCustomer, "arn:aws:kms:us-east-1:123456789012:key/k", "", true},
		{"carrier mode needs no tokens key", domain.ModeCarrier, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range base {
				t.Setenv(k, v)
			}
			t.Setenv("ZOOM_TOKENS_KEY_ARN", tt.key)
			lazy, err := FromEnv(aws.Config{Region: "us-east-1"}, dynamodb.New(dynamodb.Options{Region: "us-east-1"}), "t", tt.mode,
				zoom.ProLimits(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := lazy.Config.Tokens != nil; got != tt.wantOwnTk {
				t.Fatalf("calls with the customers' own tokens: %v; want %v", got, tt.wantOwnTk)
			}
			if got := lazy.Credentials != nil; got == tt.wantOwnTk {
				t.Fatalf("server-to-server credentials loaded: %v; want %v", got, !tt.wantOwnTk)
			}
		})
	}
}
