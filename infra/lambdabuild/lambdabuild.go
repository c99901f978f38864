// Package lambdabuild builds the Lambda bundles: every functions/<name>/main.go
// of the repository becomes <out>/<name>/bootstrap, a static Linux binary for
// Lambda's provided.al2023 runtime.
//
// It is the one way the project builds them. The CDK app (infra/main.go)
// calls Build before it synthesizes, so `cdk synth` works from a fresh clone;
// `make build` runs the same code (infra/build-lambdas). The flags make the
// build reproducible (no build id, no VCS stamp, no file paths), so the same
// source gives the same bytes, the same asset hash and no spurious
// redeployment; Go's build cache makes a rebuild of unchanged code a link
// step only.
package lambdabuild

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Flags are the go build flags of every bundle.
var Flags = []string{
	"-tags", "lambda.norpc", // the provided runtime needs no net/rpc
	"-trimpath",       // no file paths of the building machine
	"-buildvcs=false", // no commit or dirty flag: a commit that changes no code changes no bundle
	"-ldflags=-s -w -buildid=",
}

// Options say what to build and where.
type Options struct {
	// Root is the repository root: the directory of go.mod, holding
	// functions/.
	Root string
	// Out receives <Out>/<name>/bootstrap; a relative Out is relative to Root.
	Out string
	// GOARCH is the functions' architecture: arm64 (the stack's) or amd64.
	GOARCH string
	// Go is the go command (default "go" on PATH).
	Go string
}

// Functions returns the names of the functions under root/functions: every
// directory holding a main.go, sorted.
func Functions(root string) ([]string, error) {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("no functions/<name>/main.go under %s", root)
	}
	return names, nil
}

// Build builds every function into o.Out and returns their names. It builds
// them in one go command (packages compile once, in parallel) into a
// scratch directory beside the bundles, then moves each bootstrap into
// place, so a failed build leaves the previous bundles as they were. The
// error carries the compiler's output.
func Build(ctx context.Context, o Options) ([]string, error) {
	switch o.GOARCH {
	case "arm64", "amd64":
	default:
		return nil, fmt.Errorf("lambda bundles: GOARCH %q: Lambda runs arm64 or amd64", o.GOARCH)
	}
	names, err := Functions(o.Root)
	if err != nil {
		return nil, err
	}
	out := o.Out
	if !filepath.IsAbs(out) {
		out = filepath.Join(o.Root, out)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("lambda bundles: %w", err)
	}
	scratch, err := os.MkdirTemp(out, ".build-")
	if err != nil {
		return nil, fmt.Errorf("lambda bundles: %w", err)
	}
	defer os.RemoveAll(scratch)

	goCmd := o.Go
	if goCmd == "" {
		goCmd = "go"
	}
	args := append([]string{"build"}, Flags...)
	args = append(args, "-o", scratch+string(filepath.Separator))
	for _, n := range names {
		args = append(args, "./functions/"+n)
	}
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+o.GOARCH, "CGO_ENABLED=0")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("lambda bundles: %s %s (GOOS=linux GOARCH=%s CGO_ENABLED=0, in %s): %w\n%s",
			goCmd, strings.Join(args, " "), o.GOARCH, o.Root, err, strings.TrimSpace(output.String()))
	}
	var errs []error
	for _, n := range names {
		dir := filepath.Join(out, n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		// go build names each binary after its package directory.
		if err := os.Rename(filepath.Join(scratch, n), filepath.Join(dir, "bootstrap")); err != nil {
			errs = append(errs, fmt.Errorf("bundle %s: %w", n, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lambda bundles: %w", err)
	}
	return names, nil
}

// RepoRoot returns the repository root: the nearest directory, from the
// working directory up, holding go.mod.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		_, err := os.Stat(filepath.Join(d, "go.mod"))
		if err == nil {
			return d, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("look for the repository root: %w", err)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or a parent: run from the repository", wd)
		}
	}
}
