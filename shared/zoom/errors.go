package zoom

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Kind classifies a Zoom failure by what the caller should do about it.
type Kind string

// Kinds of Error.
const (
	// Unknown is the kind of nil and of errors that are not *Error.
	Unknown Kind = ""
	// Throttled: HTTP 429; retry later, honouring RetryAfter when set.
	Throttled Kind = "throttled"
	// Unavailable: 5xx, timeouts, connection errors; retry later.
	Unavailable Kind = "unavailable"
	// NotFound: the number (or the thing asked for) does not exist.
	NotFound Kind = "not_found"
	// BadCredentials: OAuth refused the client credentials, or the API kept
	// refusing a fresh token.
	BadCredentials Kind = "bad_credentials"
	// Assigned: Zoom refused to remove a number that is still assigned.
	Assigned Kind = "assigned"
	// Rejected: any other 4xx; retrying the same call will not help.
	Rejected Kind = "rejected"
)

// Retryable reports whether a later retry of the same call may succeed.
func (k Kind) Retryable() bool { return k == Throttled || k == Unavailable }

// Error is a classified Zoom failure. Its text never contains the client
// secret or an access token.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status; 0 when no response was received
	Code       int           // Zoom's error code from the body, if any
	Message    string        // Zoom's message, or a description of the failure
	RetryAfter time.Duration // from Retry-After, when Zoom sent it

	op    string // e.g. "GET /phone/numbers" or "oauth token"
	cause error  // transport or context error, for errors.Is
}

// Error describes the failure: operation, kind, HTTP status, Zoom code and
// message. It never contains credentials.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("zoom")
	if e.op != "" {
		b.WriteString(" " + e.op)
	}
	b.WriteString(": " + string(e.Kind))
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != 0 {
			fmt.Fprintf(&b, ", code %d", e.Code)
		}
		b.WriteString(")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the transport or context error behind an Unavailable
// error, so errors.Is(err, context.DeadlineExceeded) works.
func (e *Error) Unwrap() error { return e.cause }

// KindOf returns the Kind of the *Error in err's chain, or Unknown.
func KindOf(err error) Kind {
	var ze *Error
	if errors.As(err, &ze) {
		return ze.Kind
	}
	return Unknown
}

// apiError is Zoom's error body.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// OAuth errors use these instead.
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// looksAssigned reports whether a Zoom message says a number is still
// assigned ("Phone number +1... is assigned"), as opposed to "unassigned".
func looksAssigned(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"is assigned", "are assigned", "still assigned", "currently assigned", "been assigned", "assigned to"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// classifyAPI maps an API error response to a Kind.
func classifyAPI(status int, body apiError) Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return Throttled
	case status >= 500:
		return Unavailable
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusUnauthorized:
		return BadCredentials
	case status == http.StatusBadRequest && (body.Code == CodeNumberAssigned || looksAssigned(body.Message)):
		return Assigned
	case status >= 400:
		return Rejected
	}
	return Unavailable // a status the client did not expect (1xx/3xx)
}

// classifyOAuth maps an OAuth token error response to a Kind.
func classifyOAuth(status int, body apiError) Kind {
	switch {
	case status == http.StatusTooManyRequests:
		return Throttled
	case status >= 500:
		return Unavailable
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return BadCredentials
	case status == http.StatusBadRequest && body.Error == "invalid_client":
		return BadCredentials
	case status >= 400:
		return Rejected
	}
	return Unavailable
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now).Round(time.Second)
	}
	return 0
}
