package lambdamain

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestBuildHandsTheRegionToSetupAndReturnsItsError: setup sees the
// environment's AWS configuration, and its error comes back unchanged.
func TestBuildHandsTheRegionToSetupAndReturnsItsError(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-3")
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var region string
	h, err := build(log, func(_ *slog.Logger, cfg aws.Config) (any, error) {
		region = cfg.Region
		return "handler", nil
	})
	if err != nil || h != "handler" || region != "eu-west-3" {
		t.Fatalf("build = %v, %v with region %q; want the handler, no error, eu-west-3", h, err, region)
	}
	bad := errors.New("missing environment variables: TABLE_NAME")
	if _, err := build(log, func(*slog.Logger, aws.Config) (any, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Fatalf("build error = %v, want %v", err, bad)
	}
}
