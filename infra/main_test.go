package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/jsiienv"
	"numberrelease/infra/lambdabuild"
	"numberrelease/infra/stack"
)

func TestMain(m *testing.M) {
	jsiienv.SilenceEndOfLifeNode()
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

// Run on its own (make synth), the app takes cdk.json's context, with the
// flags over it; run by the CDK CLI, it leaves the context to the CLI.
func TestAppProps(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	cli := func(k string) string {
		return map[string]string{"CDK_CONTEXT_JSON": `{"stage":"prod"}`, "CDK_OUTDIR": "/tmp/cli.out"}[k]
	}
	tests := []struct {
		name        string
		opts        options
		getenv      func(string) string
		wantCdkJSON bool // the context read from cdk.json
		wantOut     string
		wantFinal   map[string]any
	}{
		{name: "alone", getenv: noEnv, wantCdkJSON: true, wantOut: filepath.Join(root, "cdk.out")},
		{name: "alone with flags", getenv: noEnv,
			opts:        options{stage: "prod", buildDir: "/b", goarch: "amd64", alarmEmail: "a@example.com", out: "/o"},
			wantCdkJSON: true, wantOut: "/o",
			wantFinal: map[string]any{"stage": "prod", "buildDir": "/b", "goarch": "amd64", "alarmEmail": "a@example.com"}},
		{name: "alone, CDK_OUTDIR set", getenv: func(k string) string {
			return map[string]string{"CDK_OUTDIR": "/env.out"}[k]
		}, wantCdkJSON: true},
		{name: "under the CLI", getenv: cli},
		{name: "under the CLI with an overflow file", getenv: func(k string) string {
			return map[string]string{"CONTEXT_OVERFLOW_LOCATION_ENV": "/tmp/ctx.json"}[k]
		}},
		{name: "under the CLI with flags", getenv: cli, opts: options{stage: "local"},
			wantFinal: map[string]any{"stage": "local"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props, err := appProps(tt.opts, tt.getenv)
			if err != nil {
				t.Fatal(err)
			}
			if got := props.Context != nil; got != tt.wantCdkJSON {
				t.Fatalf("context read from cdk.json: %v, want %v", got, tt.wantCdkJSON)
			}
			if tt.wantCdkJSON {
				ctx := *props.Context
				stages, _ := ctx["stages"].(map[string]any)
				if ctx["stage"] != "dev" || stages["local"] == nil || ctx["@aws-cdk/core:checkSecretUsage"] != true {
					t.Errorf("context %v lacks cdk.json's stage, stages or feature flags", ctx)
				}
			}
			got := ""
			if props.Outdir != nil {
				got = *props.Outdir
			}
			if got != tt.wantOut {
				t.Errorf("outdir %q, want %q", got, tt.wantOut)
			}
			final := map[string]any{}
			if props.PostCliContext != nil {
				final = *props.PostCliContext
			}
			if tt.wantFinal == nil {
				tt.wantFinal = map[string]any{}
			}
			if !reflect.DeepEqual(final, tt.wantFinal) {
				t.Errorf("flag context %v, want %v", final, tt.wantFinal)
			}
		})
	}
}

// The stage, alarm email and bundle directory the app synthesizes come from
// cdk.json, with the flags over it, without the CDK CLI.
func TestStackConfigFromCdkJSON(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		opts       options
		wantStage  string
		wantMin    int // recheckSecondsMin, which differs per stage in cdk.json
		wantEmail  string
		wantBuilds string
	}{
		{name: "cdk.json's default stage", wantStage: "dev", wantMin: 60, wantBuilds: filepath.Join(root, "build")},
		{name: "a stage only cdk.json defines", opts: options{stage: "local", alarmEmail: "oncall@example.com", buildDir: "build/localstack"},
			wantStage: "local", wantMin: 5, wantEmail: "oncall@example.com", wantBuilds: filepath.Join(root, "build", "localstack")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props, err := appProps(tt.opts, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			props.Outdir = jsii.String(t.TempDir())
			name, cfg, err := stackConfig(awscdk.NewApp(props))
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.wantStage || cfg.Stage != tt.wantStage || cfg.RecheckSecondsMin != tt.wantMin ||
				cfg.AlarmEmail != tt.wantEmail || cfg.BuildDir != tt.wantBuilds {
				t.Errorf("stage %s: %+v, want stage %s, recheckSecondsMin %d, alarm email %q, build dir %s",
					name, cfg, tt.wantStage, tt.wantMin, tt.wantEmail, tt.wantBuilds)
			}
		})
	}
}

// Every functions/<name>/main.go the app builds is a function the stack
// deploys, and the other way round.
func TestStackDeploysEveryBuiltFunction(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	built, err := lambdabuild.Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	deployed := slices.Sorted(slices.Values(stack.FunctionNames()))
	if !slices.Equal(built, deployed) {
		t.Errorf("functions/ holds %v, the stack deploys %v", built, deployed)
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    options
		wantErr string
	}{
		{args: nil},
		{args: []string{"-stage", "prod", "-build-dir", "b", "-goarch", "amd64", "-alarm-email", "a@example.com", "-out", "o"},
			want: options{stage: "prod", buildDir: "b", goarch: "amd64", alarmEmail: "a@example.com", out: "o"}},
		{args: []string{"prod"}, wantErr: "unexpected arguments"},
		{args: []string{"-region", "x"}, wantErr: "not defined"},
	}
	for _, tt := range tests {
		t.Run("args "+strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
