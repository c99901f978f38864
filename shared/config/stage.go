package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"numberrelease/shared/domain"
)

// CDKFile is the CDK's configuration file at the repository root.
const CDKFile = "cdk.json"

// StageConfig is one deployment stage's settings (dev, prod, local): what
// differs between deployments. cdk.json's context "stages" holds one entry
// per stage; the CDK app (infra/stack) builds the stack from it, and the
// local harness reads the same entries (LoadStageFile), so a setting such
// as release-tasks' reserved concurrency has one source for both. The field
// names of the JSON are a deployed contract: cdk.json files in use carry
// them.
type StageConfig struct {
	// Stage names the deployment (dev, prod): lower-case letters, digits, '-'.
	Stage string `json:"-"`

	// Production keeps data on stack deletion (retain policies), protects the
	// table against deletion and picks the production defaults below.
	Production bool `json:"production"`
	// LogRetentionDays applies to every log group of the stack (functions,
	// workflow, API access and execution logs); one of CloudWatch's values
	// (RetentionDays).
	LogRetentionDays int `json:"logRetentionDays"`
	// WorkflowLogLevel is the state machine's log level: ALL, ERROR, FATAL
	// or OFF. Execution data (task tokens, numbers) is never logged.
	WorkflowLogLevel string `json:"workflowLogLevel"`
	// ReleaseTasksReservedConcurrency caps (and reserves) the concurrent
	// executions of release-tasks, the only function calling Zoom; 0 means no
	// reservation (the account's unreserved pool). The local Lambda front
	// enforces the same cap.
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
	// "light=N,medium=N,heavy=N" (ParseZoomLimits).
	ZoomRateLimits string `json:"zoomRateLimits"`
}

// DefaultStage is the configuration of a stage that cdk.json does not
// override: production settings when production is true.
func DefaultStage(name string, production bool) StageConfig {
	c := StageConfig{
		Stage:                           name,
		Production:                      production,
		LogRetentionDays:                30,
		WorkflowLogLevel:                "ALL",
		ReleaseTasksReservedConcurrency: 10,
		APIRateLimit:                    50,
		APIBurstLimit:                   100,
		APIGatewayCloudWatchRole:        true,
		RecheckSecondsMin:               60,
		ReleaseMode:                     string(domain.ModeCustomer),
		ZoomRateLimits:                  "pro",
	}
	if production {
		c.LogRetentionDays = 90
		c.WorkflowLogLevel = "ERROR"
	}
	return c
}

// LoadStage builds the configuration of stage name from the CDK context
// value "stages" (cdk.json: {"dev": {...}, "prod": {...}}): the stage's
// entry over DefaultStage. An entry's "production" picks the defaults; an
// unknown key or a stage missing from stages is an error. Without any
// stages (no cdk.json), only dev and prod are known, with their defaults.
// LoadStage does not validate the result (Validate).
func LoadStage(name string, stages any) (StageConfig, error) {
	var entries map[string]json.RawMessage
	if stages != nil {
		raw, err := json.Marshal(stages)
		if err != nil {
			return StageConfig{}, fmt.Errorf("context stages: %w", err)
		}
		if err := json.Unmarshal(raw, &entries); err != nil {
			return StageConfig{}, fmt.Errorf("context stages must be an object of stage names: %w", err)
		}
	} else {
		entries = map[string]json.RawMessage{"dev": []byte(`{}`), "prod": []byte(`{"production":true}`)}
	}
	entry, ok := entries[name]
	if !ok {
		known := make([]string, 0, len(entries))
		for k := range entries {
			known = append(known, k)
		}
		slices.Sort(known)
		return StageConfig{}, fmt.Errorf("unknown stage %q: cdk.json context \"stages\" defines %s (use -c stage=NAME)",
			name, strings.Join(known, ", "))
	}
	var head struct {
		Production bool `json:"production"`
	}
	if err := json.Unmarshal(entry, &head); err != nil {
		return StageConfig{}, fmt.Errorf("stage %s: %w", name, err)
	}
	cfg := DefaultStage(name, head.Production)
	dec := json.NewDecoder(bytes.NewReader(entry))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return StageConfig{}, fmt.Errorf("stage %s in cdk.json: %w", name, err)
	}
	cfg.Stage = name
	return cfg, nil
}

// LoadStageFile reads the cdk.json at path and returns stage name from its
// context "stages", validated. An empty name means the file's default stage
// (context "stage", as `cdk synth` without -c stage=NAME uses).
func LoadStageFile(path, name string) (StageConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return StageConfig{}, fmt.Errorf("read stage configuration: %w", err)
	}
	var doc struct {
		Context struct {
			Stage  string          `json:"stage"`
			Stages json.RawMessage `json:"stages"`
		} `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return StageConfig{}, fmt.Errorf("parse %s: %w", path, err)
	}
	if name == "" {
		name = doc.Context.Stage
	}
	if name == "" {
		return StageConfig{}, fmt.Errorf("%s: no stage named and no default context \"stage\"", path)
	}
	if len(doc.Context.Stages) == 0 {
		return StageConfig{}, fmt.Errorf("%s: no context \"stages\"", path)
	}
	cfg, err := LoadStage(name, doc.Context.Stages)
	if err != nil {
		return StageConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return StageConfig{}, fmt.Errorf("%s: stage %s: %w", path, name, err)
	}
	return cfg, nil
}

// FindCDKFile returns the path of the repository's cdk.json: the first one
// in the working directory or a parent of it, so tests and `make run` find
// it from any package directory.
func FindCDKFile() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: working directory: %w", CDKFile, err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, CDKFile)
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
			return p, nil
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("find %s: %w", CDKFile, err)
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("find %s: none in %s or any parent", CDKFile, wd)
		}
	}
}

var (
	logLevels = []string{"ALL", "ERROR", "FATAL", "OFF"}
	// retentionDays are the retention periods CloudWatch Logs accepts
	// (PutRetentionPolicy), in days.
	retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)

// validStageName reports whether name is a stage's name: a lower-case
// letter, then up to 31 lower-case letters, digits and '-'.
func validStageName(name string) bool {
	if name == "" || len(name) > 32 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// looksLikeEmail reports whether s has the shape of an email address:
// something, '@', then something holding a '.' with something on both
// sides of it; no second '@' and no white space.
func looksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && len(domain) >= 3 && !strings.ContainsAny(s, " \t\n\f\r") &&
		!strings.Contains(domain, "@") && strings.Contains(domain[1:len(domain)-1], ".")
}

// RetentionDays returns the values LogRetentionDays may take, ascending.
func RetentionDays() []int { return slices.Clone(retentionDays) }

// Validate reports every bad setting (each one named); nil means the stage
// can be deployed as far as its settings go.
func (c StageConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !validStageName(c.Stage) {
		bad("stage %q: want lower-case letters, digits and '-' (dev, prod)", c.Stage)
	}
	if !slices.Contains(retentionDays, c.LogRetentionDays) {
		bad("logRetentionDays %d: want one of %v", c.LogRetentionDays, retentionDays)
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
	if c.AlarmEmail != "" && !looksLikeEmail(c.AlarmEmail) {
		bad("alarmEmail %q is not an email address", c.AlarmEmail)
	}
	if mode, err := ParseReleaseMode(c.ReleaseMode); err != nil {
		bad("releaseMode: %w", err)
	} else if mode == domain.ModeCarrier && c.CarrierCode <= 0 {
		bad("releaseMode carrier needs carrierCode, the carrier's positive Provider Exchange code")
	}
	if c.CarrierCode < 0 {
		bad("carrierCode %d: want 0 (none) or a positive code", c.CarrierCode)
	}
	if _, err := ParseZoomLimits(c.ZoomRateLimits); err != nil {
		bad("zoomRateLimits: %w", err)
	}
	return errors.Join(errs...)
}
