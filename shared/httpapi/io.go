package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"numberrelease/shared/apperr"
	"numberrelease/shared/jsonhttp"
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
		return apperr.New(apperr.Invalid, "malformed JSON body: %s", jsonhttp.DescribeDecodeError(err))
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "malformed JSON body: unexpected data after the JSON object")
	}
	return nil
}

// problem writes err as an RFC 9457 document; internal errors are logged
// with the request id and never shown.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	id := requestID(r.Context())
	if p := apperr.Write(w, busy(err), id); p.Code == apperr.Internal || p.Code == apperr.Unavailable {
		a.log.ErrorContext(r.Context(), "request failed", "request_id", id, "err", err)
	}
}
