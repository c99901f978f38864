// Package apigw serves an http.Handler from API Gateway REST (v1) proxy
// events, so Lambda and the local runner share one handler.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// RequestIDSetter puts API Gateway's request id on the request context.
type RequestIDSetter func(ctx context.Context, id string) context.Context

// Handler adapts h to a Lambda handler for API Gateway proxy events.
func Handler(h http.Handler, withID RequestIDSetter) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		r, err := Request(ctx, ev)
		if err != nil {
			return events.APIGatewayProxyResponse{}, err
		}
		if withID != nil && ev.RequestContext.RequestID != "" {
			r = r.WithContext(withID(r.Context(), ev.RequestContext.RequestID))
		}
		w := &responseWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		return w.response(), nil
	}
}

// Request turns a proxy event into an *http.Request.
func Request(ctx context.Context, ev events.APIGatewayProxyRequest) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		dec, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("decode base64 body: %w", err)
		}
		body = dec
	}
	q := url.Values{}
	for k, vs := range ev.MultiValueQueryStringParameters {
		q[k] = append(q[k], vs...)
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q.Set(k, v)
		}
	}
	// API Gateway hands the path decoded or not depending on the client;
	// keep whatever escapes it has so the router sees the same segments.
	u := &url.URL{Path: ev.Path, RawQuery: q.Encode()}
	if dec, err := url.PathUnescape(ev.Path); err == nil && dec != ev.Path {
		u.Path, u.RawPath = dec, ev.Path
	}
	r, err := http.NewRequestWithContext(ctx, ev.HTTPMethod, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if r.Header.Get(k) == "" {
			r.Header.Set(k, v)
		}
	}
	r.RequestURI = u.RequestURI()
	r.RemoteAddr = ev.RequestContext.Identity.SourceIP
	return r, nil
}

type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseWriter) response() events.APIGatewayProxyResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	resp := events.APIGatewayProxyResponse{StatusCode: w.status, MultiValueHeaders: map[string][]string{}}
	for k, vs := range w.header {
		resp.MultiValueHeaders[http.CanonicalHeaderKey(k)] = vs
	}
	b := w.body.Bytes()
	ct := strings.ToLower(w.header.Get("Content-Type"))
	if utf8.Valid(b) && (ct == "" || strings.Contains(ct, "json") || strings.HasPrefix(ct, "text/") || strings.Contains(ct, "yaml")) {
		resp.Body = string(b)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(b)
		resp.IsBase64Encoded = true
	}
	return resp
}
