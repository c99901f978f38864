package lambdafront

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/harness/emulatortest"
)

// moto executes state machines and calls Lambda at the front (its
// MOTO_PORT), as in the local system; TestMain sets its options.
var moto = &emulatortest.Shared{}

var (
	frontLn   net.Listener
	frontOnce sync.Once
	front     *Front
	frontErr  error
)

// TestMain listens for the front on the port moto will call Lambda at.
func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	frontLn = ln
	moto.Options = emulator.Options{ExecuteStateMachines: true, MotoPort: ln.Addr().(*net.TCPAddr).Port}
	code := emulatortest.Run(m, moto)
	_ = ln.Close()
	os.Exit(code)
}

// theFront is the front answering moto's Lambda calls, started with moto
// on first use.
func theFront(t *testing.T) *Front {
	t.Helper()
	srv := moto.Server(t)
	frontOnce.Do(func() {
		front, frontErr = New(srv.Endpoint(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if frontErr == nil {
			go func() { _ = (&http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second}).Serve(frontLn) }()
		}
	})
	if frontErr != nil {
		t.Fatal(frontErr)
	}
	return front
}

func sfnClient(t *testing.T) *sfn.Client {
	t.Helper()
	srv := moto.Server(t)
	return sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
}

func runMachine(t *testing.T, def string, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx := context.Background()
	c := sfnClient(t)
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("run-1"), Input: aws.String(input)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("execution still running after 30 s")
	return nil
}

const fnArn = "arn:aws:lambda:us-east-1:123456789012:function:%s:$LATEST"

func TestInvokeRunsTheHandler(t *testing.T) {
	theFront(t).Register("double", func(ctx context.Context, in struct{ N int }) (map[string]int, error) {
		return map[string]int{"n": in.N * 2}, nil
	})
	def := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"`+fnArn+`","Payload":{"N.$":"$.n"}},"ResultSelector":{"n.$":"$.Payload.n"},"End":true}}}`, "double")
	d := runMachine(t, def, `{"n":21}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != `{"n":42}` {
		t.Fatalf("execution %s output %s", d.Status, aws.ToString(d.Output))
	}
}

func TestNamedErrorsReachCatch(t *testing.T) {
	theFront(t).Register("throttled", func(ctx context.Context) error {
		return messages.InvokeResponse_Error{Type: "Zoom.Throttled", Message: "slow down"}
	})
	theFront(t).Register("plain", func(ctx context.Context) error { return errors.New("boom") })
	for _, tt := range []struct{ fn, wantErr string }{{"throttled", "Zoom.Throttled"}, {"plain", "errorString"}} {
		t.Run(tt.fn, func(t *testing.T) {
			def := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"`+fnArn+`","Payload":{}},
				"Catch":[{"ErrorEquals":["%s"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
				"Caught":{"Type":"Pass","End":true}}}`, tt.fn, tt.wantErr)
			d := runMachine(t, def, `{}`)
			if d.Status != sfntypes.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), tt.wantErr) {
				t.Fatalf("execution %s output %s; want %s caught", d.Status, aws.ToString(d.Output), tt.wantErr)
			}
		})
	}
}

func TestWaitForTaskToken(t *testing.T) {
	var mu sync.Mutex
	var token string
	theFront(t).Register("park", func(ctx context.Context, in struct {
		Token string `json:"token"`
	}) error {
		mu.Lock()
		defer mu.Unlock()
		token = in.Token
		return nil
	})
	def := fmt.Sprintf(`{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken",
		"Parameters":{"FunctionName":"`+fnArn+`","Payload":{"token.$":"$$.Task.Token"}},"TimeoutSecondsPath":"$.timeout",
		"Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"TimedOut"}],"End":true},
		"TimedOut":{"Type":"Pass","Result":"timed out","End":true}}}`, "park")
	t.Run("callback", func(t *testing.T) {
		c := sfnClient(t)
		go func() {
			for {
				mu.Lock()
				tok := token
				mu.Unlock()
				if tok != "" {
					_, _ = c.SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"woken":true}`)})
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		d := runMachine(t, def, `{"timeout":30}`)
		if d.Status != sfntypes.ExecutionStatusSucceeded || compact(aws.ToString(d.Output)) != `{"woken":true}` {
			t.Fatalf("execution %s output %s", d.Status, aws.ToString(d.Output))
		}
	})
	t.Run("timeout", func(t *testing.T) {
		d := runMachine(t, def, `{"timeout":1}`)
		if d.Status != sfntypes.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), "timed out") {
			t.Fatalf("execution %s output %s", d.Status, aws.ToString(d.Output))
		}
	})
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"release-tasks":      "release-tasks",
		"release-tasks:live": "release-tasks",
		"arn:aws:lambda:us-east-1:123456789012:function:release-tasks":             "release-tasks",
		"arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ax%3A%24LATEST": "x",
		"123456789012:function:release-tasks":                                      "release-tasks",
	} {
		if got := FunctionName(in); got != want {
			t.Errorf("FunctionName(%q) = %q; want %q", in, got, want)
		}
	}
}

// compact drops insignificant white space (moto pretty-prints outputs).
func compact(s string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return s
	}
	return buf.String()
}

// TestThrottledInvokeOnStepFunctions proves on moto's real Step Functions
// that the front's answer over the account's cap is what Lambda's is to a
// state machine: the task fails with Lambda.TooManyRequestsException, which
// a Retry on that name retries, and which fails an execution without one.
// One execution holds the only slot (its handler blocks) while a second
// one invokes the same function.
func TestThrottledInvokeOnStepFunctions(t *testing.T) {
	const retry = `"Retry":[{"ErrorEquals":["Lambda.TooManyRequestsException"],"IntervalSeconds":1,"BackoffRate":1,"MaxAttempts":100}],`
	tests := []struct {
		name       string
		retry      string
		wantStatus sfntypes.ExecutionStatus // of the throttled execution
	}{
		{name: "retried", retry: retry, wantStatus: sfntypes.ExecutionStatusSucceeded},
		{name: "not retried", wantStatus: sfntypes.ExecutionStatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			c := sfnClient(t)
			fn := "capped-" + strings.ReplaceAll(tt.name, " ", "-")
			gate := make(chan struct{})
			entered := make(chan struct{}, 1)
			theFront(t).Register(fn, func(ctx context.Context) (string, error) {
				select {
				case entered <- struct{}{}:
				default:
				}
				<-gate
				return "done", nil
			})
			if err := theFront(t).SetAccountConcurrency(1); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = theFront(t).SetAccountConcurrency(0) })
			released := false
			release := func() {
				if !released {
					released = true
					close(gate)
				}
			}
			t.Cleanup(release)

			def := fmt.Sprintf(`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"`+fnArn+`","Payload":{}},%s"OutputPath":"$.Payload","End":true}}}`, fn, tt.retry)
			sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
				Name: aws.String(fn), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn"),
			})
			if err != nil {
				t.Fatal(err)
			}
			start := func(name string) *string {
				ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String(name), Input: aws.String(`{}`)})
				if err != nil {
					t.Fatal(err)
				}
				return ex.ExecutionArn
			}

			holder := start("holder")
			select {
			case <-entered:
			case <-time.After(time.Minute):
				t.Fatal("the first execution's handler did not start within a minute")
			}
			throttled := start("throttled")
			var failure *sfntypes.TaskFailedEventDetails
			waitFor(t, "the second execution's task to fail", func() bool {
				failure = taskFailure(t, throttled)
				return failure != nil
			})
			if got := aws.ToString(failure.Error); got != "Lambda.TooManyRequestsException" {
				t.Errorf("task failed with %q, want Lambda.TooManyRequestsException", got)
			}
			if cause := aws.ToString(failure.Cause); !strings.Contains(cause, "Rate Exceeded.") || !strings.Contains(cause, "Status Code: 429") {
				t.Errorf("cause %q, want Lambda's throttling message and status", cause)
			}

			release()
			for arn, want := range map[*string]sfntypes.ExecutionStatus{holder: sfntypes.ExecutionStatusSucceeded, throttled: tt.wantStatus} {
				var d *sfn.DescribeExecutionOutput
				waitFor(t, "the executions to end", func() bool {
					d, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
					if err != nil {
						t.Fatal(err)
					}
					return d.Status != sfntypes.ExecutionStatusRunning
				})
				if d.Status != want {
					t.Errorf("%s: %s (error %q), want %s", aws.ToString(d.Name), d.Status, aws.ToString(d.Error), want)
				}
				if want == sfntypes.ExecutionStatusFailed && aws.ToString(d.Error) != "Lambda.TooManyRequestsException" {
					t.Errorf("%s failed with %q, want Lambda.TooManyRequestsException", aws.ToString(d.Name), aws.ToString(d.Error))
				}
			}
		})
	}
}

// taskFailure returns the first TaskFailed event's details of an execution,
// or nil.
func taskFailure(t *testing.T, arn *string) *sfntypes.TaskFailedEventDetails {
	t.Helper()
	h, err := sfnClient(t).GetExecutionHistory(context.Background(), &sfn.GetExecutionHistoryInput{ExecutionArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Events {
		if e.Type == sfntypes.HistoryEventTypeTaskFailed {
			return e.TaskFailedEventDetails
		}
	}
	return nil
}

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
