// Command build-lambdas builds the Lambda bundles, <out>/<name>/bootstrap
// for every functions/<name>/main.go, as the CDK app does before it
// synthesizes (infra/lambdabuild). `make build` and `make build-local` run
// it; run it from anywhere in the repository:
//
//	go run ./infra/build-lambdas [-goarch arm64] [-out build]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"numberrelease/infra/lambdabuild"
)

func main() {
	goarch := flag.String("goarch", "arm64", "the functions' architecture (the stack declares arm64; amd64 for an emulator on such a machine)")
	out := flag.String("out", "build", "directory of the bundles, <out>/<name>/bootstrap (relative to the repository root)")
	flag.Parse()
	if err := run(*goarch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "build-lambdas:", err)
		os.Exit(1)
	}
}

func run(goarch, out string) error {
	root, err := lambdabuild.RepoRoot()
	if err != nil {
		return err
	}
	start := time.Now()
	names, err := lambdabuild.Build(context.Background(), lambdabuild.Options{Root: root, Out: out, GOARCH: goarch})
	if err != nil {
		return err
	}
	fmt.Printf("%s/{%s}/bootstrap (linux/%s) in %s\n", filepath.Clean(out), strings.Join(names, ","), goarch,
		time.Since(start).Round(100*time.Millisecond))
	return nil
}
