// Command infra is the CDK app: one Number Release stack per stage.
//
// Its configuration is cdk.json's "context": stage (the default stage),
// stages (each stage's settings, shared/stage) and the CDK feature flags.
// Run by the CDK CLI (cdk.json's "app", as `make deploy` does), it takes the
// context the CLI hands it (CDK_CONTEXT_JSON: cdk.json's context merged with
// -c key=value options) and reads no file itself. Run on its own (`go run
// ./infra`, as `make synth` does), it reads the context from cdk.json (the
// first one in the working directory or a parent) and writes the cloud
// assembly to cdk.out beside it.
//
// Before it synthesizes, it builds the Lambda bundles itself
// (infra/lambdabuild: every functions/<name>/main.go into
// DIR/<name>/bootstrap, reproducibly, with Go's build cache), so `cdk synth`
// works from a fresh clone without `make build`.
//
// Flags override the context either way:
//
//	-stage NAME        the stage to synthesize, a key of "stages" (default: context "stage", else dev)
//	-build-dir DIR     where the Lambda bundles are built, DIR/<function>/bootstrap (default build; relative to the repository root)
//	-goarch ARCH       the bundles' architecture (default arm64, the stack's; amd64 for an emulator on such a machine)
//	-alarm-email ADDR  subscribe ADDR to the alarm topic
//	-out DIR           write the cloud assembly to DIR (default: CDK_OUTDIR, else cdk.out beside cdk.json)
//
// The same settings as CLI context keys: stage, buildDir, goarch, alarmEmail.
//
// cdk-nag's AwsSolutions rules check the stack on every synthesis. Their
// findings are printed here too, so `make synth` (which runs this app
// without the CDK CLI) shows them, and any unsuppressed error fails it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/jsiienv"
	"numberrelease/infra/lambdabuild"
	"numberrelease/infra/stack"
	"numberrelease/shared/config"
)

func main() {
	// First, before anything calls into the CDK: no jsii banner for Node.js
	// 18 or 20 on every synthesis.
	jsiienv.SilenceEndOfLifeNode()
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	defer jsii.Close()
	props, err := appProps(opts, os.Getenv)
	if err != nil {
		return err
	}
	app := awscdk.NewApp(props)
	name, cfg, err := stackConfig(app)
	if err != nil {
		return err
	}
	if err := buildBundles(os.Stderr, cfg.BuildDir, contextString(app, "goarch", stack.LambdaGOARCH)); err != nil {
		return err
	}
	if _, err := stack.New(app, "NumberRelease-"+name, cfg, &awscdk.StackProps{
		Env:         environment(),
		Description: jsii.String("Number Release: carrier-initiated, customer-approved release of Zoom Phone numbers"),
	}); err != nil {
		return err
	}
	stack.AddNagChecks(app)
	assembly := app.Synth(nil)
	return reportFindings(os.Stderr, assembly)
}

// buildBundles builds every function into dir (infra/lambdabuild) and says
// so on w.
func buildBundles(w io.Writer, dir, goarch string) error {
	root, err := lambdabuild.RepoRoot()
	if err != nil {
		return err
	}
	start := time.Now()
	names, err := lambdabuild.Build(context.Background(), lambdabuild.Options{Root: root, Out: dir, GOARCH: goarch})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "infra: built %s (linux/%s) into %s in %s\n", strings.Join(names, ", "), goarch, dir,
		time.Since(start).Round(100*time.Millisecond))
	return nil
}

// options are the command line's overrides of the context.
type options struct {
	stage, buildDir, goarch, alarmEmail, out string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("infra", flag.ContinueOnError)
	fs.StringVar(&o.stage, "stage", "", "stage to synthesize, a key of cdk.json's context \"stages\" (default: context \"stage\", else dev)")
	fs.StringVar(&o.buildDir, "build-dir", "", "directory the Lambda bundles are built into, <dir>/<function>/bootstrap (default build; relative to the repository root)")
	fs.StringVar(&o.goarch, "goarch", "", "architecture of the Lambda bundles (default "+stack.LambdaGOARCH+", the stack's)")
	fs.StringVar(&o.alarmEmail, "alarm-email", "", "email address to subscribe to the alarm topic")
	fs.StringVar(&o.out, "out", "", "directory of the cloud assembly (default: CDK_OUTDIR, else cdk.out beside cdk.json)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments %q (settings are flags: -stage, -build-dir, -goarch, -alarm-email, -out)", fs.Args())
	}
	return o, nil
}

// appProps is where the app's context comes from: the CDK CLI's (it sets
// CDK_CONTEXT_JSON, or CONTEXT_OVERFLOW_LOCATION_ENV when the context is
// large, and CDK_OUTDIR) when the CLI runs the app, cdk.json's otherwise;
// and the flags over either.
func appProps(o options, getenv func(string) string) (*awscdk.AppProps, error) {
	props := &awscdk.AppProps{}
	underCLI := getenv("CDK_CONTEXT_JSON") != "" || getenv("CONTEXT_OVERFLOW_LOCATION_ENV") != ""
	if !underCLI {
		path, err := config.FindCDKFile()
		if err != nil {
			return nil, fmt.Errorf("not run by the CDK CLI (no CDK_CONTEXT_JSON), so the context comes from %s: %w", config.CDKFile, err)
		}
		ctx, err := readContext(path)
		if err != nil {
			return nil, err
		}
		props.Context = &ctx
		if o.out == "" && getenv("CDK_OUTDIR") == "" {
			o.out = filepath.Join(filepath.Dir(path), "cdk.out")
		}
	}
	final := map[string]any{}
	for key, v := range map[string]string{"stage": o.stage, "buildDir": o.buildDir, "goarch": o.goarch, "alarmEmail": o.alarmEmail} {
		if v != "" {
			final[key] = v
		}
	}
	if len(final) > 0 {
		props.PostCliContext = &final
	}
	if o.out != "" {
		props.Outdir = jsii.String(o.out)
	}
	return props, nil
}

// readContext returns the "context" object of the cdk.json at path.
func readContext(path string) (map[string]any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CDK context: %w", err)
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if doc.Context == nil {
		return nil, fmt.Errorf("%s has no \"context\" object", path)
	}
	return doc.Context, nil
}

// stackConfig resolves the stage named by the app's context ("stage",
// default dev) from its "stages", with the alarm email and build directory
// the context gives.
func stackConfig(app awscdk.App) (string, stack.Config, error) {
	name := contextString(app, "stage", "dev")
	settings, err := config.LoadStage(name, app.Node().TryGetContext(jsii.String("stages")))
	if err != nil {
		return "", stack.Config{}, err
	}
	cfg := stack.Config{StageConfig: settings}
	if email := contextString(app, "alarmEmail", ""); email != "" {
		cfg.AlarmEmail = email
	}
	if cfg.BuildDir, err = resolveBuildDir(contextString(app, "buildDir", stack.DefaultBuildDir)); err != nil {
		return "", stack.Config{}, err
	}
	return name, cfg, nil
}

// reportFindings prints the stacks' error and warning annotations (cdk-nag
// findings among them) and fails on any error, as the CDK CLI does.
func reportFindings(w io.Writer, assembly cxapi.CloudAssembly) error {
	errs, warns := 0, 0
	for _, st := range *assembly.Stacks() {
		for _, m := range *st.Messages() {
			var level string
			switch m.Level {
			case cxapi.SynthesisMessageLevel_ERROR:
				level, errs = "error", errs+1
			case cxapi.SynthesisMessageLevel_WARNING:
				level, warns = "warning", warns+1
			default:
				continue
			}
			fmt.Fprintf(w, "[%s] %s: %v\n", level, *m.Id, m.Entry.Data)
		}
	}
	if errs+warns > 0 {
		fmt.Fprintf(w, "%d error(s), %d warning(s)\n", errs, warns)
	}
	if errs > 0 {
		return fmt.Errorf("%d synthesis error(s) (cdk-nag findings must be fixed or suppressed with a reason: infra/stack/nag.go)", errs)
	}
	return nil
}

func contextString(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}

// environment is the account and region the CDK CLI resolved, or nil
// (environment-agnostic) when the app runs without them.
func environment() *awscdk.Environment {
	var env awscdk.Environment
	if v := os.Getenv("CDK_DEFAULT_ACCOUNT"); v != "" {
		env.Account = jsii.String(v)
	}
	if v := os.Getenv("CDK_DEFAULT_REGION"); v != "" {
		env.Region = jsii.String(v)
	}
	if env.Account == nil && env.Region == nil {
		return nil
	}
	return &env
}

// resolveBuildDir makes a relative dir absolute from the repository root (the
// nearest directory up from here holding go.mod), so the app finds the
// bundles wherever in the repository it is started.
func resolveBuildDir(dir string) (string, error) {
	if filepath.IsAbs(dir) {
		return dir, nil
	}
	root, err := lambdabuild.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, dir), nil
}
