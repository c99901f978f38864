package httpapi

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"

	"numberrelease/shared/apperr"
)

// throttleCodes are the AWS error codes that mean "too busy right now": the
// SDK has already retried them, so the caller should retry later (503), not
// see an internal error (500).
var throttleCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"TooManyRequestsException":               true,
	"LimitExceededException":                 true,
}

// busy turns AWS throttling anywhere in err, or a store call cut by the
// request's deadline (the function's timeout), into a 503 the caller can
// act on.
func busy(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && throttleCodes[api.ErrorCode()] {
		return apperr.New(apperr.Unavailable, "the service is busy; retry in a few seconds")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.New(apperr.Unavailable, "the service is too slow to answer in time; retry in a few seconds")
	}
	return err
}
