// Command infra is the CDK app (cdk.json runs it): one Number Release stack
// per stage, chosen with `-c stage=prod` (default dev).
//
// Context keys: stage (a key of stages; default dev), stages (cdk.json: each
// stage's settings, see shared/config), alarmEmail (overrides the stage's
// alarm email), buildDir (the Lambda bundles written by `make build`;
// default build/, relative paths are taken from the repository root).
//
// cdk-nag's AwsSolutions rules check the stack on every synthesis. Their
// findings are printed here too, so `make synth` (which runs this app
// without the CDK CLI) shows them, and any unsuppressed error fails it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/stack"
	"numberrelease/shared/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		os.Exit(2)
	}
}

func run() error {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	name := contextString(app, "stage", "dev")
	settings, err := config.LoadStage(name, app.Node().TryGetContext(jsii.String("stages")))
	if err != nil {
		return err
	}
	cfg := stack.Config{StageConfig: settings}
	if email := contextString(app, "alarmEmail", ""); email != "" {
		cfg.AlarmEmail = email
	}
	if cfg.BuildDir, err = resolveBuildDir(contextString(app, "buildDir", stack.DefaultBuildDir)); err != nil {
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
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		_, err := os.Stat(filepath.Join(d, "go.mod"))
		if err == nil {
			return filepath.Join(d, dir), nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for the repository root: %w", err)
		}
		if filepath.Dir(d) == d {
			return filepath.Join(wd, dir), nil
		}
	}
}
