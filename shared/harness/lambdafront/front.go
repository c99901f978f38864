// Package lambdafront lets real Step Functions executions on moto call the
// project's own Lambda handlers without Docker (docs/EMULATOR.md): moto calls
// Lambda at http://localhost:$MOTO_PORT; this front listens there, answers
// Invoke by running the registered handler in-process, and forwards every
// other request to moto unchanged.
//
// The front may model the account's concurrency quota (SetAccountConcurrency):
// every invocation of every function it serves counts against one cap, as
// Lambda counts an account's functions without reserved concurrency. Above
// it, a synchronous Invoke is refused with Lambda's own throttling answer
// (HTTP 429, TooManyRequestsException), which a state machine sees as
// Lambda.TooManyRequestsException and may retry; an asynchronous (Event)
// Invoke waits for a free slot, as Lambda queues it.
package lambdafront

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/google/uuid"
)

const invokePrefix = "/2015-03-31/functions/"

// Front is the Invoke answerer and proxy.
type Front struct {
	mu       sync.RWMutex
	handlers map[string]lambda.Handler
	// slots holds one token per running invocation of any function, up to
	// the account's cap (SetAccountConcurrency); nil: no cap.
	slots chan struct{}
	proxy *httputil.ReverseProxy
	log   *slog.Logger
	// Timeout bounds one invocation, as a function's timeout does.
	Timeout time.Duration
	wg      sync.WaitGroup
}

// New returns a front forwarding non-Invoke requests to upstream (moto).
func New(upstream string, log *slog.Logger) (*Front, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("parse upstream %q: %w", upstream, err)
	}
	return &Front{
		handlers: map[string]lambda.Handler{},
		proxy:    httputil.NewSingleHostReverseProxy(u),
		log:      log,
		Timeout:  30 * time.Second,
	}, nil
}

// Register serves a function by name; handler is anything lambda.Start
// accepts.
func (f *Front) Register(name string, handler any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers[name] = lambda.NewHandler(handler)
}

// SetAccountConcurrency caps the concurrent invocations of all the functions
// the front serves, together, at n, as the account's concurrency quota does
// on AWS (the stage's accountConcurrencyQuota, config.StageConfig). 0
// removes the cap. Invocations already running keep their slot until they
// end, without counting against the new cap.
func (f *Front) SetAccountConcurrency(n int) error {
	if n < 0 {
		return fmt.Errorf("account concurrency %d: want 0 (no cap) or more", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if n == 0 {
		f.slots = nil
		return nil
	}
	f.slots = make(chan struct{}, n)
	return nil
}

// Wait blocks until asynchronous (Event) invocations, queued ones included,
// have finished.
func (f *Front) Wait() { f.wg.Wait() }

// FunctionName extracts the function name from what Invoke accepts: a name,
// a full or partial ARN, optionally with a :qualifier.
func FunctionName(raw string) string {
	s, _ := url.PathUnescape(raw)
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn": // arn:aws:lambda:region:acct:function:name[:qualifier]
		return parts[6]
	case len(parts) >= 3 && parts[1] == "function": // acct:function:name[:qualifier]
		return parts[2]
	default: // name[:qualifier]
		return parts[0]
	}
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), invokePrefix)
	name, tail, _ := strings.Cut(rest, "/")
	if !ok || tail != "invocations" || r.Method != http.MethodPost {
		f.proxy.ServeHTTP(w, r)
		return
	}
	fn := FunctionName(name)
	f.mu.RLock()
	h, found := f.handlers[fn]
	slots := f.slots
	f.mu.RUnlock()
	// Lambda names every answer of the Invoke API with a request id, and
	// moto's Step Functions reads it when it reports an Invoke error.
	w.Header().Set("X-Amzn-RequestId", uuid.NewString())
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]string{"Type": "User", "message": "Function not found: " + fn}, "ResourceNotFoundException")
		return
	}
	payload, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read payload", http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-Amz-Invocation-Type") == "Event" {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			if slots != nil {
				slots <- struct{}{} // queued until a slot frees, as Lambda queues events
				defer func() { <-slots }()
			}
			_, _ = f.invoke(context.Background(), fn, h, payload)
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if slots != nil {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			f.log.Debug("lambda invoke throttled", "function", fn, "account_concurrency", cap(slots))
			writeJSON(w, http.StatusTooManyRequests, throttled, "TooManyRequestsException")
			return
		}
	}
	out, ierr := f.invoke(r.Context(), fn, h, payload)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if ierr != nil {
		// As on AWS: 200, X-Amz-Function-Error, and the error document.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		writeJSON(w, http.StatusOK, ierr, "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// throttled is Lambda's answer body to a synchronous Invoke over the
// account's concurrency (Lambda API reference, Invoke,
// TooManyRequestsException, reason ConcurrentInvocationLimitExceeded).
var throttled = struct {
	Reason  string `json:"Reason"`
	Type    string `json:"Type"`
	Message string `json:"message"`
}{Reason: "ConcurrentInvocationLimitExceeded", Type: "User", Message: "Rate Exceeded."}

// invoke runs the handler the way the Lambda runtime does, including its
// naming of errors (aws-lambda-go's rules) and recovery from panics.
func (f *Front) invoke(ctx context.Context, fn string, h lambda.Handler, payload []byte) (out []byte, ierr *messages.InvokeResponse_Error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.Timeout)
	defer cancel()
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			ierr = &messages.InvokeResponse_Error{Type: "Runtime.Panic", Message: fmt.Sprint(p)}
		}
		f.log.Debug("lambda invoke", "function", fn, "duration_ms", time.Since(start).Milliseconds(), "error", ierr != nil)
	}()
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return nil, errorResponse(err)
	}
	return out, nil
}

// errorResponse names an error as aws-lambda-go does: an InvokeResponse_Error
// value keeps its Type, anything else is named after its Go type.
func errorResponse(err error) *messages.InvokeResponse_Error {
	if ive, ok := err.(messages.InvokeResponse_Error); ok {
		return &ive
	}
	t := reflect.TypeOf(err)
	name := t.Name()
	if t.Kind() == reflect.Ptr {
		name = t.Elem().Name()
	}
	return &messages.InvokeResponse_Error{Type: name, Message: err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v any, errType string) {
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	w.Header().Set("Content-Type", "application/json")
	if errType != "" {
		w.Header().Set("X-Amzn-ErrorType", errType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
