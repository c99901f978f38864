// Package functions holds the Lambda functions, one main package each
// (functions/<name>/main.go). Its test guards what they link.
package functions_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the packages no Lambda may link, with the reason: a
// pattern ending in "/..." stands for the package and every package under
// it, as in the go command.
var forbidden = []struct{ pattern, why string }{
	{"numberrelease/shared/harness/...", "the harness (emulator, simulators, local token issuer, stream poller, fakes) is for local running and tests"},
	{"testing/...", "test code"},
	// The client alone: the DynamoDB SDK's attributevalue needs the
	// Streams API's types.
	{"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams", "the DynamoDB Streams client is the local stream poller's; on AWS, Lambda's event source mappings read the stream"},
	// Linking phonenumbers costs each binary about 7 MiB: its init loads
	// metadata with protobuf, and protobuf's use of
	// reflect.Value.MethodByName stops the linker from pruning unused
	// exported methods. Package number uses generated metadata instead.
	{"github.com/nyaruka/phonenumbers/...", "about 7 MiB per binary; package number uses generated metadata"},
	{"google.golang.org/protobuf/...", "comes with phonenumbers"},
}

// TestLambdasLinkNoHarness lists the dependencies of every functions/*
// main package, built as the Lambdas are (make build), and fails naming
// each function that depends on a forbidden package and why.
func TestLambdasLinkNoHarness(t *testing.T) {
	cmd := exec.Command("go", "list", "-tags", "lambda.norpc",
		"-f", `{{if eq .Name "main"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{end}}`,
		"numberrelease/functions/...")
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr(err))
	}
	functions := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		functions++
		for _, dep := range fields[1:] {
			for _, f := range forbidden {
				if matches(f.pattern, dep) {
					t.Errorf("%s links %s: %s", fields[0], dep, f.why)
				}
			}
		}
	}
	if functions == 0 {
		t.Fatal("go list found no functions/* main package")
	}
}

// matches reports whether pkg is pattern's package, or under it when
// pattern ends in "/...".
func matches(pattern, pkg string) bool {
	if tree, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == pattern
}

// stderr returns what a failed command wrote to standard error.
func stderr(err error) string {
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		return string(ee.Stderr)
	}
	return ""
}
