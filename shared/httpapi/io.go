package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"numberrelease/shared/apperr"
)

// readBody reads a JSON request body within MaxBodyBytes. The body is
// always parsed as strict JSON; besides JSON media types, curl's default
// (application/x-www-form-urlencoded, sent by `curl -d`) is accepted so a
// forgotten header does not get in the way. Anything else is refused.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSONMediaType(ct) && !isCurlDefault(ct) {
		return nil, apperr.New(apperr.UnsupportedMedia, "Content-Type %q is not accepted; send application/json", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, apperr.New(apperr.TooLarge, "request body is over %d bytes", MaxBodyBytes)
	}
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "request body could not be read")
	}
	return body, nil
}

// decodeJSON strictly decodes one JSON object: unknown fields, wrong types
// and trailing data are refused with a message naming the problem.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.New(apperr.Invalid, "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.New(apperr.Invalid, "malformed JSON body: %s", describeJSONError(err))
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "malformed JSON body: unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "not a JSON object"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"title":"Internal error","status":500}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// problem writes err as an RFC 9457 document; internal errors are logged
// with the request id and never shown.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	id := requestID(r.Context())
	if p := apperr.Write(w, busy(err), id); p.Code == apperr.Internal || p.Code == apperr.Unavailable {
		a.log.ErrorContext(r.Context(), "request failed", "request_id", id, "err", err)
	}
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
