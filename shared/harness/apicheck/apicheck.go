// Package apicheck checks HTTP answers (and, optionally, requests) against
// the service's OpenAPI document (shared/apispec), for the tests and the
// end-to-end suite.
package apicheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"numberrelease/shared/apispec"
	"numberrelease/shared/number"
)

// The document's own string formats, which no pattern can state: whether a
// phone number is valid in its country's numbering plan (libphonenumber's
// metadata, package number).
const (
	// FormatPhoneNumber is a phone number as a client may send it: valid once
	// normalised.
	FormatPhoneNumber = "phone-number"
	// FormatE164 is a phone number as the service writes it: valid and
	// already in E.164 form.
	FormatE164 = "e164"
)

var defineFormats = sync.OnceFunc(func() {
	openapi3.DefineStringFormatValidator(FormatPhoneNumber, openapi3.NewCallbackValidator(func(v string) error {
		if _, err := number.Parse(v); err != nil {
			return fmt.Errorf("%q is not a valid phone number", v)
		}
		return nil
	}))
	openapi3.DefineStringFormatValidator(FormatE164, openapi3.NewCallbackValidator(func(v string) error {
		if n, err := number.Parse(v); err != nil || n != v {
			return fmt.Errorf("%q is not a valid phone number in E.164 form", v)
		}
		return nil
	}))
})

// Load parses the OpenAPI document and validates it.
func Load() (*openapi3.T, error) {
	defineFormats()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(apispec.Document())
	if err != nil {
		return nil, fmt.Errorf("parse openapi document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("validate openapi document: %w", err)
	}
	return doc, nil
}

// Validator checks requests and responses against the OpenAPI document.
// It is safe for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

// NewValidator loads the document and builds a router that matches its paths
// on any host and scheme.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	// The document's servers name localhost; requests under test arrive with
	// any host (httptest, API Gateway, ...), so match paths only.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build openapi router: %w", err)
	}
	return &Validator{doc: doc, router: router}, nil
}

// OperationID returns the operationId of the operation req is routed to.
func (v *Validator) OperationID(req *http.Request) (string, error) {
	route, _, err := v.router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", req.Method, requestPath(req), err)
	}
	return route.Operation.OperationID, nil
}

// ValidateResponse checks a response to req — its status, Content-Type and
// body — against the operation req is routed to. A status the operation does
// not document is an error. Authentication is not re-checked.
//
// A request that matches no documented path may only be answered with a 404
// problem, and a request whose method is not documented for its path only
// with a 405 problem; those bodies are checked against the Problem schema.
func (v *Validator) ValidateResponse(req *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return v.validateUnrouted(req, err, status, header, body)
	}
	params = unescaped(params)
	opID := route.Operation.OperationID
	if header == nil {
		header = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    v.options(),
		},
		Status:  status,
		Header:  header,
		Options: v.options(),
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return fmt.Errorf("%s %s (operation %s): response %d does not match the OpenAPI document: %w",
			req.Method, requestPath(req), opID, status, err)
	}
	return nil
}

// ValidateRequest checks req (path and query parameters, headers, and the
// given body) against the operation it is routed to. Authentication is not
// checked. req.Body is not read; pass the body bytes instead.
func (v *Validator) ValidateRequest(req *http.Request, body []byte) error {
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%s %s: no documented operation: %w", req.Method, requestPath(req), err)
	}
	params = unescaped(params)
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	input := &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      route,
		Options:    v.options(),
	}
	if err := openapi3filter.ValidateRequest(req.Context(), input); err != nil {
		return fmt.Errorf("%s %s (operation %s): request does not match the OpenAPI document: %w",
			req.Method, requestPath(req), route.Operation.OperationID, err)
	}
	return nil
}

func (v *Validator) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		IncludeResponseStatus: true,
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		// Name the failing value and the reason, without dumping the schema.
		SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()},
	}
}

// validateUnrouted handles a request that matches no documented operation.
func (v *Validator) validateUnrouted(req *http.Request, routeErr error, status int, header http.Header, body []byte) error {
	want := 0
	switch {
	case errors.Is(routeErr, routers.ErrPathNotFound):
		want = http.StatusNotFound
	case errors.Is(routeErr, routers.ErrMethodNotAllowed):
		want = http.StatusMethodNotAllowed
	}
	if want == 0 || status != want {
		return fmt.Errorf("%s %s: no documented operation (%v), so only a %d problem may answer it; got %d",
			req.Method, requestPath(req), routeErr, want, status)
	}
	if err := v.validateProblem(header, body); err != nil {
		return fmt.Errorf("%s %s: %d answer to an undocumented operation: %w", req.Method, requestPath(req), status, err)
	}
	return nil
}

func (v *Validator) validateProblem(header http.Header, body []byte) error {
	ct := header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/problem+json" {
		return fmt.Errorf("Content-Type %q, want application/problem+json", ct)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("problem body is not JSON: %w", err)
	}
	ref := v.doc.Components.Schemas["Problem"]
	if ref == nil || ref.Value == nil {
		return errors.New("document has no Problem schema")
	}
	if err := ref.Value.VisitJSON(value, openapi3.DisableSchemaErrorDetails()); err != nil {
		return fmt.Errorf("problem body does not match schema Problem: %w", err)
	}
	return nil
}

// unescaped percent-decodes path parameters: the router hands them as they
// are in the URL, and their schemas describe the decoded values
// (%2B97239754571 is +97239754571).
func unescaped(params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		if dec, err := url.PathUnescape(v); err == nil {
			v = dec
		}
		out[k] = v
	}
	return out
}

func requestPath(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	return req.URL.EscapedPath()
}
