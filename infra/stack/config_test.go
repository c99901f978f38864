package stack

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"numberrelease/shared/config"
)

func TestNewRefusesMissingBundles(t *testing.T) {
	dir := t.TempDir()
	if err := writeBundles(dir, FunctionAPI, FunctionNotify, FunctionReconcile); err != nil {
		t.Fatal(err)
	}
	needsCDK(t)
	app := awscdk.NewApp(nil)
	cfg := testConfig("dev", false)
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

// Config.Validate reports the stage's bad settings (shared/config tests each
// one) and the missing bundles, together.
func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*Config)
		wantErrs []string
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "no bundles", change: func(c *Config) { c.BuildDir = t.TempDir() }, wantErrs: []string{"make build"}},
		{name: "bad setting", change: func(c *Config) { c.LogRetentionDays = 31 }, wantErrs: []string{"logRetentionDays 31"}},
		{name: "both", change: func(c *Config) { c.BuildDir = t.TempDir(); c.Stage = "Dev Stage" },
			wantErrs: []string{"make build", `stage "Dev Stage"`}},
		{name: "no pages", change: func(c *Config) { c.WebDir = t.TempDir() }, wantErrs: []string{"index.html", "portal.html", "webDir"}},
		{name: "no pages needed without the front door", change: func(c *Config) {
			dir := c.BuildDir
			*c = noFrontDoor
			c.BuildDir, c.WebDir = dir, t.TempDir()
		}},
		{name: "certificate outside us-east-1", change: func(c *Config) {
			c.DomainName, c.CertificateARN = "numbers.example.com", "arn:aws:acm:eu-west-1:123456789012:certificate/x"
		}, wantErrs: []string{"certificateArn", "CloudFront only uses ACM certificates from us-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("dev", false)
			cfg.BuildDir = testBuildDir
			tt.change(&cfg)
			err := cfg.Validate()
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", cfg)
			}
			for _, want := range tt.wantErrs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// Every retention a stage may choose has a CDK name, so a valid stage never
// synthesizes a log group without retention.
func TestRetentionByDaysCoversTheStageValues(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(retentionByDays)), config.RetentionDays(); !slices.Equal(got, want) {
		t.Errorf("retentionByDays has %v, config.RetentionDays() %v", got, want)
	}
}

// cdk.json's stages are what `make synth` and `make deploy` use: each must
// load and validate with the stack's checks too, dev and prod must exist,
// and only prod is production.
func TestCdkJSONStages(t *testing.T) {
	path, err := config.FindCDKFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"dev", "prod", "local"} {
		t.Run(name, func(t *testing.T) {
			settings, err := config.LoadStageFile(path, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := (Config{StageConfig: settings, BuildDir: testBuildDir}).Validate(); err != nil {
				t.Error(err)
			}
			if settings.Production != (name == "prod") {
				t.Errorf("production = %v", settings.Production)
			}
			// dev and prod get the front door and the stack's user pool;
			// local (LocalStack: no CloudFront, no Cognito) trusts `make
			// run`'s issuer and has the pages elsewhere.
			if local := name == "local"; settings.FrontDoor == local || settings.Identity.External() != local {
				t.Errorf("frontDoor %v, external issuer %v", settings.FrontDoor, settings.Identity.External())
			}
			if settings.ReleaseTasksConcurrency != 5 || settings.ReleaseTasksReservedConcurrency != 0 || settings.AccountConcurrencyQuota != 10 {
				t.Errorf("releaseTasksConcurrency %d, releaseTasksReservedConcurrency %d, accountConcurrencyQuota %d; want 5 (half the quota), 0 (none), 10 (a new account's)",
					settings.ReleaseTasksConcurrency, settings.ReleaseTasksReservedConcurrency, settings.AccountConcurrencyQuota)
			}
		})
	}
}
