package stack

import (
	"errors"

	"numberrelease/shared/config"
)

// DefaultBuildDir is where the CDK app and `make build` write the Lambda
// bundles (<dir>/<function>/bootstrap), relative to the repository root.
const DefaultBuildDir = "build"

// LambdaGOARCH is the architecture the bundles are built for: the functions'
// (awslambda.Architecture_ARM_64, newGoFunction).
const LambdaGOARCH = "arm64"

// Config is what the stack is built from: the stage's settings (cdk.json's
// "stages", shared/config, which the local harness reads too) and where the
// Lambda bundles are.
type Config struct {
	config.StageConfig
	// BuildDir holds the Lambda bundles, <BuildDir>/<function>/bootstrap;
	// empty means DefaultBuildDir. The app passes it resolved against the
	// repository root.
	BuildDir string
	// WebDir holds the pages the front door deploys (index.html,
	// portal.html and their assets); empty means DefaultWebDir in the
	// repository.
	WebDir string
}

func (c Config) buildDir() string {
	if c.BuildDir == "" {
		return DefaultBuildDir
	}
	return c.BuildDir
}

// Validate reports everything that stops the stack from being synthesized:
// a bad stage name or setting (config.StageConfig.Validate: among them the
// front door's domain, its certificate, which must be in us-east-1, and the
// external issuer), missing Lambda bundles or missing pages (every missing
// one is named).
func (c Config) Validate() error {
	return errors.Join(c.StageConfig.Validate(), checkBundles(c.buildDir()), c.checkWebDir())
}
