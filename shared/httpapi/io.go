package httpapi

import (
	"context"
	"mime"
	"net/http"
	"strings"

	"numberrelease/shared/apperr"
	"numberrelease/shared/auth"
	"numberrelease/shared/jsonhttp"
	"numberrelease/shared/number"
	"numberrelease/shared/release"
)

// readBody reads a JSON request body within MaxBodyBytes. Only
// application/json is accepted (charset, if given, utf-8): a form body
// (curl -d's default media type) or a body without a Content-Type is refused
// with 415 rather than guessed at.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := jsonMediaType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	return jsonhttp.ReadBody(w, r, MaxBodyBytes)
}

// jsonMediaType refuses a Content-Type other than application/json.
func jsonMediaType(ct string) error {
	if strings.TrimSpace(ct) == "" {
		return apperr.New(apperr.UnsupportedMedia, "the request has no Content-Type; send the body as application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return apperr.New(apperr.UnsupportedMedia, "Content-Type %q is not accepted; send application/json", ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return apperr.New(apperr.UnsupportedMedia, "charset %q is not accepted; JSON is sent as utf-8", cs)
	}
	return nil
}

// decodeJSON strictly decodes one JSON object into v (jsonhttp.DecodeObject):
// unknown, duplicate or null fields, wrong types and trailing data are
// refused with a message naming the problem.
func decodeJSON(body []byte, v any) error {
	if err := jsonhttp.DecodeObject(body, v); err != nil {
		return apperr.New(apperr.Invalid, "%s", err.Error())
	}
	return nil
}

// limited puts the API's limit on how many numbers one request carries in
// front of the service, for every operation that takes a list of numbers.
type limited struct{ Service }

func (l limited) RequestRelease(ctx context.Context, p auth.Principal, in release.RequestInput) (release.RequestOutput, error) {
	if err := checkNumbers(in.Numbers); err != nil {
		return release.RequestOutput{}, err
	}
	return l.Service.RequestRelease(ctx, p, in)
}

func (l limited) Approve(ctx context.Context, p auth.Principal, numbers []string) ([]release.Result, error) {
	if err := checkNumbers(numbers); err != nil {
		return nil, err
	}
	return l.Service.Approve(ctx, p, numbers)
}

func (l limited) Reject(ctx context.Context, p auth.Principal, numbers []string, reason string) ([]release.Result, error) {
	if err := checkNumbers(numbers); err != nil {
		return nil, err
	}
	return l.Service.Reject(ctx, p, numbers, reason)
}

// checkNumbers refuses a body without numbers (400) and one with more than
// number.MaxPerRequest of them (413, as for a body over the size limit).
func checkNumbers(numbers []string) error {
	if numbers == nil {
		return apperr.New(apperr.Invalid, `"numbers" is required: a list of 1 to %d phone numbers`, number.MaxPerRequest)
	}
	if len(numbers) > number.MaxPerRequest {
		return apperr.New(apperr.TooLarge, "%d numbers were sent; at most %d are accepted per request", len(numbers), number.MaxPerRequest)
	}
	return nil
}

// problem writes err as an RFC 9457 document; internal errors are logged
// with the request id and never shown.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	if p := jsonhttp.WriteProblem(w, r, busy(err)); p.Code == apperr.Internal || p.Code == apperr.Unavailable {
		a.log.ErrorContext(r.Context(), "request failed", "request_id", p.Instance, "err", err)
	}
}
