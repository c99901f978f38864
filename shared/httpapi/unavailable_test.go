package httpapi

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"numberrelease/shared/apperr"
)

func TestBusy(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want apperr.Code
	}{
		{"dynamodb throughput", fmt.Errorf("read numbers: %w", &types.ProvisionedThroughputExceededException{Message: new(string)}), apperr.Unavailable},
		{"dynamodb request limit", fmt.Errorf("write: %w", &types.RequestLimitExceeded{}), apperr.Unavailable},
		{"other aws error stays internal", fmt.Errorf("x: %w", &types.ResourceNotFoundException{}), apperr.Internal},
		{"store call cut by the function's deadline", fmt.Errorf("read numbers: %w", context.DeadlineExceeded), apperr.Unavailable},
		{"plain error stays internal", errors.New("boom"), apperr.Internal},
		{"app error kept", apperr.New(apperr.NotFound, "x"), apperr.NotFound},
	}
	for _, tt := range tests {
		if got := apperr.CodeOf(busy(tt.err)); got != tt.want {
			t.Errorf("%s: busy → %s; want %s", tt.name, got, tt.want)
		}
	}
}
