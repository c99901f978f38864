// Package apperr holds the service's coded application errors, the one table
// that maps them to HTTP statuses, and their RFC 9457 problem rendering.
package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Code classifies an application error. Codes are part of the API contract.
type Code string

// Error codes and what callers should do about them.
const (
	Invalid             Code = "invalid_request"      // fix the request
	InvalidNumbers      Code = "invalid_numbers"      // fix the named numbers
	Unauthenticated     Code = "unauthenticated"      // get a valid token
	Forbidden           Code = "forbidden"            // wrong role for this endpoint
	NotFound            Code = "not_found"            // nothing here for this caller
	MethodNotAllowed    Code = "method_not_allowed"   // another method is served here
	Conflict            Code = "conflict"             // the current state does not allow it
	InvalidStatus       Code = "invalid_status"       // per-number: not in a status that allows it
	IdempotencyMismatch Code = "idempotency_mismatch" // the key was used with another body
	TooLarge            Code = "payload_too_large"    // body over the limit
	UnsupportedMedia    Code = "unsupported_media_type"
	TooManyRequests     Code = "too_many_requests" // over the caller's request budget; retry after Retry-After
	Unavailable         Code = "unavailable"       // retry later
	ZoomRefused         Code = "zoom_refused"      // Zoom refused what the service asked on the caller's behalf
	Internal            Code = "internal"          // our fault; details are logged, not shown

	// IdempotencyInProgress: a request with the same Idempotency-Key is still
	// being worked on; retry after Retry-After to get its answer.
	IdempotencyInProgress Code = "idempotency_in_progress"
)

// statuses is the one table from codes to HTTP statuses.
var statuses = map[Code]int{
	Invalid:             http.StatusBadRequest,
	InvalidNumbers:      http.StatusBadRequest,
	Unauthenticated:     http.StatusUnauthorized,
	Forbidden:           http.StatusForbidden,
	NotFound:            http.StatusNotFound,
	MethodNotAllowed:    http.StatusMethodNotAllowed,
	Conflict:            http.StatusConflict,
	InvalidStatus:       http.StatusConflict,
	IdempotencyMismatch: http.StatusUnprocessableEntity,
	TooLarge:            http.StatusRequestEntityTooLarge,
	UnsupportedMedia:    http.StatusUnsupportedMediaType,
	TooManyRequests:     http.StatusTooManyRequests,
	Unavailable:         http.StatusServiceUnavailable,
	ZoomRefused:         http.StatusBadGateway,
	Internal:            http.StatusInternalServerError,

	IdempotencyInProgress: http.StatusConflict,
}

var titles = map[Code]string{
	Invalid:             "Invalid request",
	InvalidNumbers:      "Invalid phone numbers",
	Unauthenticated:     "Authentication required",
	Forbidden:           "Forbidden",
	NotFound:            "Not found",
	MethodNotAllowed:    "Method not allowed",
	Conflict:            "Conflict",
	InvalidStatus:       "Not allowed in the current status",
	IdempotencyMismatch: "Idempotency key reused with a different request",
	TooLarge:            "Request body too large",
	UnsupportedMedia:    "Unsupported media type",
	TooManyRequests:     "Too many requests",
	Unavailable:         "Service unavailable",
	ZoomRefused:         "Zoom refused the request",
	Internal:            "Internal error",

	IdempotencyInProgress: "Idempotency key in use by a request in progress",
}

// Error is an application error whose Message is safe to show the caller.
type Error struct {
	Code    Code
	Message string
	// Extensions are extra problem members (e.g. "invalid_numbers").
	Extensions map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// New returns an application error with a formatted, caller-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e carrying one more problem extension member.
func (e *Error) With(key string, value any) *Error {
	ext := make(map[string]any, len(e.Extensions)+1)
	for k, v := range e.Extensions {
		ext[k] = v
	}
	ext[key] = value
	return &Error{Code: e.Code, Message: e.Message, Extensions: ext}
}

// CodeOf returns the code of an application error anywhere in err's chain,
// or Internal.
func CodeOf(err error) Code {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return Internal
}

// HTTPStatus maps a code to its HTTP status.
func HTTPStatus(c Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type     string
	Title    string
	Status   int
	Detail   string
	Instance string
	Code     Code
	Ext      map[string]any
}

// ProblemFor renders err as a problem. An error that is not an *Error becomes
// an internal problem whose text never reaches the caller.
func ProblemFor(err error, instance string) Problem {
	var ae *Error
	if !errors.As(err, &ae) {
		ae = &Error{Code: Internal, Message: "an internal error occurred; it has been logged with the request id"}
	}
	return Problem{
		Type:     "/problems/" + string(ae.Code),
		Title:    titles[ae.Code],
		Status:   HTTPStatus(ae.Code),
		Detail:   ae.Message,
		Instance: instance,
		Code:     ae.Code,
		Ext:      ae.Extensions,
	}
}

// MarshalJSON flattens extension members beside the standard ones.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Ext)+6)
	for k, v := range p.Ext {
		m[k] = v
	}
	m["type"] = p.Type
	m["title"] = p.Title
	m["status"] = p.Status
	m["detail"] = p.Detail
	m["code"] = p.Code
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	return json.Marshal(m)
}

// ContentType is the media type of problem documents.
const ContentType = "application/problem+json"

// Write sends err as a problem document (RFC 9457) and returns it, so the
// caller can log what it hid. A 503 tells the caller when to come back;
// X-Content-Type-Options: nosniff keeps browsers from reading it as anything
// but JSON.
func Write(w http.ResponseWriter, err error, instance string) Problem {
	p := ProblemFor(err, instance)
	b, merr := json.Marshal(p)
	if merr != nil {
		b = fmt.Appendf(nil, `{"title":"Internal error","status":%d}`, p.Status)
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
	return p
}
