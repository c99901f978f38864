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
	// Throttled: HTTP 429, or no slot within the client's own pacing
	// (Limiter); retry later, honouring RetryAfter when set.
	Throttled Kind = "throttled"
	// Unavailable: 5xx, timeouts, connection errors; retry later.
	Unavailable Kind = "unavailable"
	// NotFound: the number (or the thing asked for) does not exist. For a
	// removal this means "already removed".
	NotFound Kind = "not_found"
	// BadCredentials: OAuth refused the client credentials, or the API kept
	// refusing a fresh token.
	BadCredentials Kind = "bad_credentials"
	// Assigned: Zoom refused to remove a number that is still assigned.
	Assigned Kind = "assigned"
	// Rejected: any other 4xx; retrying the same call will not help.
	Rejected Kind = "rejected"
	// NotConnected: the account has not authorized the app, or its
	// authorization ended (removed in Zoom, disconnected, refresh token
	// refused). Nothing works until its admin connects again.
	NotConnected Kind = "not_connected"
)

// Error is a classified Zoom failure. Its text never contains the client
// secret or an access token.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status; 0 when no response was received
	Code       int           // Zoom's error code from the body, if any
	Message    string        // Zoom's message, or a description of the failure
	RetryAfter time.Duration // from Retry-After when Zoom sent it, or the limiter's estimate

	op    string // e.g. "GET /number_management/numbers" or "oauth token"
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

// parseRetryAfter reads Retry-After as seconds, an HTTP date or an RFC 3339
// time (Zoom's documented daily-limit example is "2020-05-31T00:00:00Z").
// ok is false when the header is absent or unreadable; a time in the past
// or a negative number is present with a zero wait.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(s, 0)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, v); err != nil {
			return 0, false
		}
	}
	if !t.After(now) {
		return 0, true
	}
	return t.Sub(now).Round(time.Second), true
}

// looksMissing reports whether a Zoom message says a number does not exist
// ("Phone number does not exist: ..."), which for a removal means that it
// is already gone.
func looksMissing(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"does not exist", "doesn't exist", "not exist", "no longer exist", "not found", "already removed", "already deleted"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}
