package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// DeliveryTimeout bounds one attempt: connect, TLS, request and the
// receiver's answer. Over it the attempt failed and is retried.
const DeliveryTimeout = 10 * time.Second

// UserAgent is sent with every delivery.
const UserAgent = "NumberRelease-Webhooks/1"

// Sender signs and POSTs deliveries through a client that dials only
// checked addresses (Policy.DialContext), uses no proxy, follows no
// redirect and gives up after DeliveryTimeout.
type Sender struct {
	client *http.Client
	// Now is the clock of the webhook-timestamp header (time.Now if nil).
	Now func() time.Time
}

// NewSender returns a Sender for policy.
func NewSender(policy Policy) *Sender {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           policy.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: DeliveryTimeout,
		MaxIdleConns:          20,
		IdleConnTimeout:       30 * time.Second,
	}
	return &Sender{client: &http.Client{
		Transport: tr,
		Timeout:   DeliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Result is what one attempt came to: the receiver's status code, or the
// error that kept it from answering.
type Result struct {
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	// Duration is how long the attempt took, in milliseconds.
	DurationMS int64 `json:"duration_ms"`
}

// OK reports a 2xx answer.
func (r Result) OK() bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// Send makes one signed attempt of a message to url with key.
func (s *Sender) Send(ctx context.Context, url string, key []byte, id string, body []byte) Result {
	start := time.Now()
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ts := now().Unix()
	res := Result{}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		res.Error = fmt.Sprintf("bad request: %v", err)
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(key, id, ts, body))
	resp, err := s.client.Do(req)
	res.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		res.Error = describe(err)
		return res
	}
	// Read a little of the answer so the connection can be reused; its
	// content is not kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	res.StatusCode = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		res.Error = "redirects are not followed"
	}
	return res
}

// describe shortens a client error for the delivery log (no URL query, no
// secret: the error names the host and what went wrong).
func describe(err error) string {
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Sprintf("no answer within %s", DeliveryTimeout)
	}
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) && uerr.Unwrap() != nil {
		err = uerr.Unwrap() // drop "Post "<url>": "
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
