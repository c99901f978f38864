// Command infra is the CDK app (cdk.json runs it): one Number Release stack
// per stage, chosen with `-c stage=prod` (default dev).
//
// Context keys: stage (dev|prod), buildDir (the Lambda bundles written by
// `make build`; default build/, relative paths are taken from the repository
// root).
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/infra/stack"
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
	stage := contextString(app, "stage", "dev")
	if stage != "dev" && stage != "prod" {
		return fmt.Errorf("unknown stage %q: use -c stage=dev or -c stage=prod", stage)
	}
	buildDir, err := resolveBuildDir(contextString(app, "buildDir", stack.DefaultBuildDir))
	if err != nil {
		return err
	}
	cfg := stack.Config{Stage: stage, Production: stage == "prod", BuildDir: buildDir}
	if _, err := stack.New(app, "NumberRelease-"+stage, cfg, &awscdk.StackProps{
		Env:         environment(),
		Description: jsii.String("Number Release: carrier-initiated, customer-approved release of Zoom Phone numbers"),
	}); err != nil {
		return err
	}
	app.Synth(nil)
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
