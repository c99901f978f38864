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

	"numberrelease/shared/emulator"
)

var (
	srv   *emulator.Server
	front *Front
)

// TestMain puts the front on the port moto calls Lambda at (MOTO_PORT), as
// the local runner does.
func TestMain(m *testing.M) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	os.Exit(func() int {
		return emulator.Main(&mainWithFront{m: m, ln: ln}, emulator.Options{ExecuteStateMachines: true, MotoPort: port}, &srv)
	}())
}

type mainWithFront struct {
	m  *testing.M
	ln net.Listener
}

func (w *mainWithFront) Run() int {
	var err error
	front, err = New(srv.Endpoint(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	hs := &http.Server{Handler: front}
	go func() { _ = hs.Serve(w.ln) }()
	defer hs.Close()
	return w.m.Run()
}

func sfnClient() *sfn.Client {
	return sfn.NewFromConfig(srv.AWSConfig(), func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.Endpoint()) })
}

func runMachine(t *testing.T, def string, input string) *sfn.DescribeExecutionOutput {
	t.Helper()
	ctx := context.Background()
	c := sfnClient()
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
	front.Register("double", func(ctx context.Context, in struct{ N int }) (map[string]int, error) {
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
	front.Register("throttled", func(ctx context.Context) error {
		return messages.InvokeResponse_Error{Type: "Zoom.Throttled", Message: "slow down"}
	})
	front.Register("plain", func(ctx context.Context) error { return errors.New("boom") })
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
	front.Register("park", func(ctx context.Context, in struct {
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
		go func() {
			for {
				mu.Lock()
				tok := token
				mu.Unlock()
				if tok != "" {
					_, _ = sfnClient().SendTaskSuccess(context.Background(), &sfn.SendTaskSuccessInput{TaskToken: aws.String(tok), Output: aws.String(`{"woken":true}`)})
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
