package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/stack"
)

func TestMain(m *testing.M) {
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// An unsuppressed cdk-nag finding is printed and fails the synthesis, as
// `make synth` relies on.
// cdkKernel is why the tests skip under -short: they build on the CDK's
// Node.js kernel (jsii), whose start alone takes half a minute on a small
// machine. `make test` runs them.
const cdkKernel = "needs the CDK's Node.js kernel (jsii); not run with -short"

func TestReportFindingsFailsOnNagErrors(t *testing.T) {
	if testing.Short() {
		t.Skip(cdkKernel)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	st := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awssqs.NewQueue(st, jsii.String("PlainQueue"), nil) // no TLS enforcement, no DLQ
	stack.AddNagChecks(app)
	var out bytes.Buffer
	err := reportFindings(&out, app.Synth(nil))
	if err == nil || !strings.Contains(err.Error(), "nag.go") {
		t.Errorf("err = %v, want a failure pointing at the suppressions", err)
	}
	for _, want := range []string{"[error] /Bad/PlainQueue/Resource: AwsSolutions-SQS4", "error(s)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReportFindingsQuietWhenClean(t *testing.T) {
	if testing.Short() {
		t.Skip(cdkKernel)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	st := awscdk.NewStack(app, jsii.String("Clean"), nil)
	awscdk.NewCfnWaitConditionHandle(st, jsii.String("Nothing"), nil)
	stack.AddNagChecks(app)
	var out bytes.Buffer
	if err := reportFindings(&out, app.Synth(nil)); err != nil || out.Len() != 0 {
		t.Errorf("err = %v, output %q", err, out.String())
	}
}
