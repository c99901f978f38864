package jsonhttp

import (
	"context"
	"errors"
	"io"
	"net/http"

	"numberrelease/shared/apperr"
)

type requestIDKey struct{}

// WithRequestID returns a context carrying the id that problems and logs
// quote (API Gateway's request id when there is one); pass it to
// apigw.Handler.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID put on ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// EnsureRequestID returns r carrying a request id: the one its context
// already has (API Gateway's), else the value of the request header named
// header ("" for none the client may set), else a new one.
func EnsureRequestID(r *http.Request, header string) *http.Request {
	if RequestID(r.Context()) != "" {
		return r
	}
	id := r.Header.Get(header) // "" for header ""
	if id == "" {
		id = NewRequestID()
	}
	return r.WithContext(WithRequestID(r.Context(), id))
}

// ReadBody reads r's body, at most limit bytes of it. A larger body is
// refused with a payload_too_large problem, one that cannot be read with an
// invalid_request one.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apperr.New(apperr.TooLarge, "request body is over %d bytes", limit)
	}
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "request body could not be read")
	}
	return body, nil
}

// WriteProblem sends err as an RFC 9457 problem document whose instance is
// the request's id (apperr.Write) and returns it, so the caller can log
// what it hid: an error that is not an *apperr.Error becomes an internal
// problem whose text is not shown.
func WriteProblem(w http.ResponseWriter, r *http.Request, err error) apperr.Problem {
	return apperr.Write(w, err, RequestID(r.Context()))
}
