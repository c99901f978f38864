package stack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"numberrelease/shared/tasks"
	"numberrelease/shared/zoom"
)

// DefaultBuildDir is where `make build` writes the Lambda bundles
// (<dir>/<function>/bootstrap), relative to the working directory.
const DefaultBuildDir = "build"

// Config is what differs between deployments. The app reads it from the CDK
// context: cdk.json's "stages" object holds one entry per stage, so a stage
// is added or changed there, never in code (LoadConfig).
type Config struct {
	// Stage names the deployment (dev, prod): lower-case letters, digits, '-'.
	Stage string `json:"-"`
	// BuildDir holds the Lambda bundles, <BuildDir>/<function>/bootstrap;
	// empty means DefaultBuildDir. The app passes it resolved against the
	// repository root.
	BuildDir string `json:"-"`

	// Production keeps data on stack deletion (retain policies), protects the
	// table against deletion and picks the production defaults below.
	Production bool `json:"production"`
	// LogRetentionDays applies to every log group of the stack (functions,
	// workflow, API access and execution logs); one of CloudWatch's values.
	LogRetentionDays int `json:"logRetentionDays"`
	// WorkflowLogLevel is the state machine's log level: ALL, ERROR, FATAL
	// or OFF. Execution data (task tokens, numbers) is never logged.
	WorkflowLogLevel string `json:"workflowLogLevel"`
	// ReleaseTasksReservedConcurrency caps (and reserves) the concurrent
	// executions of release-tasks, the only function calling Zoom; 0 means no
	// reservation (the account's unreserved pool, e.g. on an emulator).
	ReleaseTasksReservedConcurrency int `json:"releaseTasksReservedConcurrency"`
	// APIRateLimit (requests per second, steady) and APIBurstLimit throttle
	// every method of the API stage.
	APIRateLimit  int `json:"apiRateLimit"`
	APIBurstLimit int `json:"apiBurstLimit"`
	// APIGatewayCloudWatchRole makes the stack set the account's (per
	// region) API Gateway CloudWatch Logs role, which access and execution
	// logging need. Turn it off where the account's role is managed
	// elsewhere (then it must already be set, or the stage fails to deploy).
	APIGatewayCloudWatchRole bool `json:"apiGatewayCloudWatchRole"`
	// RecheckSecondsMin is the smallest RecheckSeconds the deployment
	// accepts (a CloudFormation parameter constraint).
	RecheckSecondsMin int `json:"recheckSecondsMin"`
	// AlarmEmail, when set, subscribes this address to the alarm topic (the
	// subscription must be confirmed from the email AWS sends).
	AlarmEmail string `json:"alarmEmail"`

	// ReleaseMode is how release-tasks removes a number from Zoom:
	// "customer" (the customer's account, DELETE /phone/numbers) or
	// "carrier" (the Provider Exchange, DELETE
	// /number_management/peering_numbers, which needs CarrierCode).
	ReleaseMode string `json:"releaseMode"`
	// CarrierCode is the carrier's Zoom Provider Exchange code (carrier
	// mode only).
	CarrierCode int `json:"carrierCode"`
	// ZoomRateLimits are the Zoom account's per-second API limits release-tasks
	// paces itself to: "pro" (default), "business", or
	// "light=N,medium=N,heavy=N" (shared/zoom.ParseLimits).
	ZoomRateLimits string `json:"zoomRateLimits"`
}

// DefaultConfig is the configuration of a stage that cdk.json does not
// override: production settings when production is true.
func DefaultConfig(stage string, production bool) Config {
	c := Config{
		Stage:                           stage,
		Production:                      production,
		LogRetentionDays:                30,
		WorkflowLogLevel:                "ALL",
		ReleaseTasksReservedConcurrency: 10,
		APIRateLimit:                    50,
		APIBurstLimit:                   100,
		APIGatewayCloudWatchRole:        true,
		RecheckSecondsMin:               60,
		ReleaseMode:                     string(tasks.ModeCustomer),
		ZoomRateLimits:                  "pro",
	}
	if production {
		c.LogRetentionDays = 90
		c.WorkflowLogLevel = "ERROR"
	}
	return c
}

// LoadConfig builds the configuration of stage from the CDK context value
// "stages" (cdk.json: {"dev": {...}, "prod": {...}}): the stage's entry over
// DefaultConfig. An entry's "production" picks the defaults; an unknown key
// or a stage missing from stages is an error. Without any stages (no
// cdk.json), only dev and prod are known, with their defaults.
func LoadConfig(stage string, stages any) (Config, error) {
	var entries map[string]json.RawMessage
	if stages != nil {
		raw, err := json.Marshal(stages)
		if err != nil {
			return Config{}, fmt.Errorf("context stages: %w", err)
		}
		if err := json.Unmarshal(raw, &entries); err != nil {
			return Config{}, fmt.Errorf("context stages must be an object of stage names: %w", err)
		}
	} else {
		entries = map[string]json.RawMessage{"dev": []byte(`{}`), "prod": []byte(`{"production":true}`)}
	}
	entry, ok := entries[stage]
	if !ok {
		known := make([]string, 0, len(entries))
		for k := range entries {
			known = append(known, k)
		}
		slices.Sort(known)
		return Config{}, fmt.Errorf("unknown stage %q: cdk.json context \"stages\" defines %s (use -c stage=NAME)",
			stage, strings.Join(known, ", "))
	}
	var head struct {
		Production bool `json:"production"`
	}
	if err := json.Unmarshal(entry, &head); err != nil {
		return Config{}, fmt.Errorf("stage %s: %w", stage, err)
	}
	cfg := DefaultConfig(stage, head.Production)
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("stage %s in cdk.json: %w", stage, err)
	}
	cfg.Stage = stage
	return cfg, nil
}

var (
	stagePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	logLevels    = []string{"ALL", "ERROR", "FATAL", "OFF"}
)

func (c Config) buildDir() string {
	if c.BuildDir == "" {
		return DefaultBuildDir
	}
	return c.BuildDir
}

// Validate reports everything that stops the stack from being synthesized:
// a bad stage name or setting, or missing Lambda bundles (every missing one
// is named).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !stagePattern.MatchString(c.Stage) {
		bad("stage %q: want lower-case letters, digits and '-' (dev, prod)", c.Stage)
	}
	if _, ok := retentionByDays[c.LogRetentionDays]; !ok {
		bad("logRetentionDays %d: want one of %v", c.LogRetentionDays, slices.Sorted(maps.Keys(retentionByDays)))
	}
	if !slices.Contains(logLevels, c.WorkflowLogLevel) {
		bad("workflowLogLevel %q: want one of %v", c.WorkflowLogLevel, logLevels)
	}
	if c.ReleaseTasksReservedConcurrency < 0 {
		bad("releaseTasksReservedConcurrency %d: want 0 (none) or more", c.ReleaseTasksReservedConcurrency)
	}
	if c.APIRateLimit < 1 || c.APIBurstLimit < 1 {
		bad("apiRateLimit %d, apiBurstLimit %d: want both at least 1", c.APIRateLimit, c.APIBurstLimit)
	}
	if c.RecheckSecondsMin < 1 {
		bad("recheckSecondsMin %d: want at least 1", c.RecheckSecondsMin)
	}
	if c.AlarmEmail != "" && !emailPattern.MatchString(c.AlarmEmail) {
		bad("alarmEmail %q is not an email address", c.AlarmEmail)
	}
	if mode, err := tasks.ParseReleaseMode(c.ReleaseMode); err != nil {
		bad("releaseMode: %w", err)
	} else if mode == tasks.ModeCarrier && c.CarrierCode <= 0 {
		bad("releaseMode carrier needs carrierCode, the carrier's positive Provider Exchange code")
	}
	if c.CarrierCode < 0 {
		bad("carrierCode %d: want 0 (none) or a positive code", c.CarrierCode)
	}
	if _, err := zoom.ParseLimits(c.ZoomRateLimits); err != nil {
		bad("zoomRateLimits: %w", err)
	}
	if err := checkBundles(c.buildDir()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
