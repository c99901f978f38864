package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

func TestNewRefusesMissingBundles(t *testing.T) {
	dir := t.TempDir()
	if err := writeBundles(dir, FunctionAPI, FunctionNotify, FunctionReconcile); err != nil {
		t.Fatal(err)
	}
	app := awscdk.NewApp(nil)
	cfg := DefaultConfig("dev", false)
	cfg.BuildDir = dir
	_, err := New(app, "Test", cfg, nil)
	if err == nil {
		t.Fatal("New succeeded without the webhook and release-tasks bundles")
	}
	msg := err.Error()
	for _, want := range []string{"make build", "webhook/bootstrap", "release-tasks/bootstrap"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	for _, present := range []string{"api/bootstrap", "notify/bootstrap", "reconcile/bootstrap"} {
		if strings.Contains(msg, present) {
			t.Errorf("error %q names the present bundle %s", msg, present)
		}
	}
	if n := len(*app.Node().Children()); n != 0 {
		t.Errorf("a refused stack left %d constructs in the app", n)
	}
}

func TestConfigValidate(t *testing.T) {
	with := func(change func(*Config)) Config {
		c := DefaultConfig("dev", false)
		c.BuildDir = testBuildDir
		change(&c)
		return c
	}
	tests := []struct {
		cfg     Config
		wantErr string
	}{
		{with(func(*Config) {}), ""},
		{with(func(c *Config) { *c = DefaultConfig("prod", true); c.BuildDir = testBuildDir }), ""},
		{with(func(c *Config) { c.ReleaseTasksReservedConcurrency = 0; c.APIGatewayCloudWatchRole = false }), ""},
		{with(func(c *Config) { c.Stage = "" }), "stage"},
		{with(func(c *Config) { c.Stage = "Dev Stage" }), "stage"},
		{with(func(c *Config) { c.BuildDir = t.TempDir() }), "make build"},
		{with(func(c *Config) { c.LogRetentionDays = 31 }), "logRetentionDays 31"},
		{with(func(c *Config) { c.WorkflowLogLevel = "all" }), "workflowLogLevel"},
		{with(func(c *Config) { c.ReleaseTasksReservedConcurrency = -1 }), "releaseTasksReservedConcurrency"},
		{with(func(c *Config) { c.APIRateLimit = 0 }), "apiRateLimit"},
		{with(func(c *Config) { c.APIBurstLimit = 0 }), "apiBurstLimit"},
		{with(func(c *Config) { c.RecheckSecondsMin = 0 }), "recheckSecondsMin"},
		{with(func(c *Config) { c.AlarmEmail = "ops" }), "alarmEmail"},
		{with(func(c *Config) { c.ReleaseMode = "carrier"; c.CarrierCode = 42 }), ""},
		{with(func(c *Config) { c.ReleaseMode = "carrier" }), "releaseMode carrier needs carrierCode"},
		{with(func(c *Config) { c.ReleaseMode = "account" }), "releaseMode"},
		{with(func(c *Config) { c.CarrierCode = -1 }), "carrierCode -1"},
		{with(func(c *Config) { c.ZoomRateLimits = "business" }), ""},
		{with(func(c *Config) { c.ZoomRateLimits = "light=5,medium=x" }), "zoomRateLimits"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%+v: %v", tt.cfg, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%+v: error %v, want one mentioning %q", tt.cfg, err, tt.wantErr)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	stages := map[string]any{
		"dev":     map[string]any{},
		"prod":    map[string]any{"production": true, "alarmEmail": "ops@example.com"},
		"staging": map[string]any{"production": true, "releaseTasksReservedConcurrency": float64(25), "workflowLogLevel": "ALL"},
		"typo":    map[string]any{"logRetentionDay": float64(7)},
	}
	got, err := LoadConfig("dev", stages)
	if err != nil || got != DefaultConfig("dev", false) {
		t.Errorf("dev = %+v, %v; want the dev defaults", got, err)
	}
	want := DefaultConfig("prod", true)
	want.AlarmEmail = "ops@example.com"
	if got, err := LoadConfig("prod", stages); err != nil || got != want {
		t.Errorf("prod = %+v, %v; want %+v", got, err, want)
	}
	// "production" picks the production defaults; other keys override them.
	want = DefaultConfig("staging", true)
	want.ReleaseTasksReservedConcurrency, want.WorkflowLogLevel = 25, "ALL"
	if got, err := LoadConfig("staging", stages); err != nil || got != want {
		t.Errorf("staging = %+v, %v; want %+v", got, err, want)
	}
	if _, err := LoadConfig("typo", stages); err == nil || !strings.Contains(err.Error(), "logRetentionDay") {
		t.Errorf("an unknown key was accepted: %v", err)
	}
	if _, err := LoadConfig("qa", stages); err == nil || !strings.Contains(err.Error(), "dev, prod, staging, typo") {
		t.Errorf("unknown stage: %v, want the known stages listed", err)
	}
	// Without cdk.json's stages, dev and prod still work.
	if got, err := LoadConfig("prod", nil); err != nil || got != DefaultConfig("prod", true) {
		t.Errorf("prod without stages = %+v, %v", got, err)
	}
	if _, err := LoadConfig("qa", nil); err == nil {
		t.Error("an unknown stage was accepted without stages")
	}
}

// cdk.json's stages are what `make synth` and `make deploy` use: each must
// load and validate, dev and prod must exist, and only prod is production.
func TestCdkJSONStages(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "cdk.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context struct {
			Stage  string         `json:"stage"`
			Stages map[string]any `json:"stages"`
		} `json:"context"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc.Context.Stages[doc.Context.Stage]; !ok {
		t.Errorf("the default stage %q is not in stages", doc.Context.Stage)
	}
	for _, name := range []string{"dev", "prod", "local"} {
		cfg, err := LoadConfig(name, doc.Context.Stages)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg.BuildDir = testBuildDir
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if cfg.Production != (name == "prod") {
			t.Errorf("%s: production = %v", name, cfg.Production)
		}
		if name != "local" && cfg.ReleaseTasksReservedConcurrency != 10 {
			t.Errorf("%s: releaseTasksReservedConcurrency = %d, want 10", name, cfg.ReleaseTasksReservedConcurrency)
		}
	}
}
