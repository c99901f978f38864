// Package config reads Number Release's configuration from where it is
// written down, and only here: a function's environment (Require, Seconds,
// ReadRelease), read once at start with every missing or bad variable
// named, and a deployment stage's settings in cdk.json (StageConfig), which
// the CDK app and the local harness share. The packages that do the work
// take the typed values this package returns; none of them parses
// configuration text.
//
// The package imports no CDK and reads no file except in LoadStageFile and
// FindCDKFile.
package config
