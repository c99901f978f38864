package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*StageConfig)
		wantErr string // "" = valid
	}{
		{"dev defaults", func(*StageConfig) {}, ""},
		{"prod defaults", func(c *StageConfig) { *c = DefaultStage("prod", true) }, ""},
		{"no account role", func(c *StageConfig) { c.APIGatewayCloudWatchRole = false }, ""},
		{"no expiry reminders", func(c *StageConfig) { c.ExpiryReminderDays = nil }, ""},
		{"no expiry ttl", func(c *StageConfig) { c.ExpiryTTLDays = 0 }, "expiryTtlDays 0: want 1 to 366"},
		{"reminder at expiry", func(c *StageConfig) { c.ExpiryReminderDays = []int{7, 30} }, "expiryReminderDays[1] 30: want at least 1 and less than expiryTtlDays 30"},
		{"reminder of no days", func(c *StageConfig) { c.ExpiryReminderDays = []int{0} }, "expiryReminderDays[0] 0"},
		{"sender email", func(c *StageConfig) { c.SenderEmail = "noreply@numbers.example.com" }, ""},
		{"sender not an email", func(c *StageConfig) { c.SenderEmail = "noreply" }, `senderEmail "noreply" is not an email address`},
		{"empty stage", func(c *StageConfig) { c.Stage = "" }, "stage"},
		{"stage with space", func(c *StageConfig) { c.Stage = "Dev Stage" }, "stage"},
		{"retention CloudWatch lacks", func(c *StageConfig) { c.LogRetentionDays = 31 }, "logRetentionDays 31"},
		{"lower-case log level", func(c *StageConfig) { c.WorkflowLogLevel = "all" }, "workflowLogLevel"},
		{"negative reservation", func(c *StageConfig) { c.ReleaseTasksReservedConcurrency = -1 }, "releaseTasksReservedConcurrency -1"},
		{"opt-in reservation on a new account", func(c *StageConfig) { c.ReleaseTasksReservedConcurrency = 10 },
			"releaseTasksReservedConcurrency 10 needs an account concurrency quota of at least 110 (Lambda keeps 100 unreserved), but accountConcurrencyQuota is 10"},
		{"opt-in reservation on a raised quota", func(c *StageConfig) { c.ReleaseTasksReservedConcurrency, c.AccountConcurrencyQuota = 10, 110 }, ""},
		{"no tasks concurrency", func(c *StageConfig) { c.ReleaseTasksConcurrency = 0 }, "releaseTasksConcurrency 0: want 1 to 1000"},
		{"tasks concurrency 1000", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 1000, 2000 }, ""},
		{"tasks concurrency half the quota", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 5, 10 }, ""},
		{"tasks concurrency over half the quota", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 6, 10 },
			"releaseTasksConcurrency 6 is more than half of accountConcurrencyQuota 10"},
		// release-batch runs up to 2 invocations (workflow.ReleaseBatchMaxConcurrency)
		// beside release-tasks' cap; at least one must stay for the rest.
		{"tasks concurrency 1 on the smallest quota", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 1, 4 }, ""},
		{"quota 1 leaves release-batch no room", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 1, 1 },
			"accountConcurrencyQuota 1: want at least 4 (10 on a new account): release-batch runs up to 2 invocations at once"},
		{"quota 3 leaves nothing for the API", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 1, 3 },
			"accountConcurrencyQuota 3: want at least 4"},
		{"tasks and release-batch take the whole quota", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 2, 4 },
			"releaseTasksConcurrency 2 and release-batch's 2 concurrent invocations would take all of accountConcurrencyQuota 4, " +
				"and Lambda would refuse the API, the webhook and the stream consumers; want releaseTasksConcurrency at most 1"},
		{"tasks and release-batch leave one", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 2, 5 }, ""},
		{"tasks concurrency over 1000", func(c *StageConfig) { c.ReleaseTasksConcurrency, c.AccountConcurrencyQuota = 1001, 2002 }, "releaseTasksConcurrency 1001"},
		{"no account quota", func(c *StageConfig) { c.AccountConcurrencyQuota = 0 }, "accountConcurrencyQuota 0"},
		{"no rate", func(c *StageConfig) { c.APIRateLimit = 0 }, "apiRateLimit"},
		{"no burst", func(c *StageConfig) { c.APIBurstLimit = 0 }, "apiBurstLimit"},
		{"no recheck", func(c *StageConfig) { c.RecheckSecondsMin = 0 }, "recheckSecondsMin"},
		{"bad email", func(c *StageConfig) { c.AlarmEmail = "ops" }, "alarmEmail"},
		{"carrier with code and account", func(c *StageConfig) { c.ReleaseMode, c.CarrierCode, c.CarrierAccountID = "carrier", 42, "zoom-carrier" }, ""},
		{"carrier without code", func(c *StageConfig) { c.ReleaseMode, c.CarrierAccountID = "carrier", "zoom-carrier" }, "releaseMode carrier needs carrierCode"},
		{"carrier without account", func(c *StageConfig) { c.ReleaseMode, c.CarrierCode = "carrier", 42 }, "releaseMode carrier needs carrierAccountId"},
		{"carrier account with a space", func(c *StageConfig) {
			c.ReleaseMode, c.CarrierCode, c.CarrierAccountID = "carrier", 42, "zoom carrier"
		}, `carrierAccountId: account id "zoom carrier"`},
		{"unknown mode", func(c *StageConfig) { c.ReleaseMode = "account" }, "releaseMode"},
		{"negative carrier code", func(c *StageConfig) { c.CarrierCode = -1 }, "carrierCode -1"},
		{"business limits", func(c *StageConfig) { c.ZoomRateLimits = "business" }, ""},
		{"bad limits", func(c *StageConfig) { c.ZoomRateLimits = "light=5,medium=x" }, "zoomRateLimits"},
		{"no share", func(c *StageConfig) { c.ZoomRateShare = 0 }, "zoomRateShare 0"},
		{"share over 100", func(c *StageConfig) { c.ZoomRateShare = 101 }, "zoomRateShare 101"},
		{"no webhook rate", func(c *StageConfig) { c.WebhookRateLimit = 0 }, "webhookRateLimit 0"},
		{"no webhook burst", func(c *StageConfig) { c.WebhookBurstLimit = -1 }, "webhookBurstLimit -1"},
		{"no tenant rate", func(c *StageConfig) { c.TenantRateLimit = 0 }, "tenantRateLimit 0"},
		{"no tenant burst", func(c *StageConfig) { c.TenantBurst = 0 }, "tenantBurst 0"},
		{"no archive", func(c *StageConfig) { c.EventArchiveDays = 0 }, "eventArchiveDays 0"},
		{"archive over ten years", func(c *StageConfig) { c.EventArchiveDays = 3654 }, "eventArchiveDays 3654"},
		{"carrier targets", func(c *StageConfig) {
			c.EventTargets = []EventTarget{
				{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/number-release-events"},
				{ProviderID: "telco.2", BusARN: "arn:aws-us-gov:events:us-gov-west-1:123456789012:event-bus/default"},
			}
		}, ""},
		{"target provider id upper case", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "PXC", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/b"}}
		}, `eventTargets[0].providerId "PXC"`},
		{"target provider twice", func(c *StageConfig) {
			c.EventTargets = []EventTarget{
				{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/a"},
				{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/b"},
			}
		}, `eventTargets[1].providerId "pxc": already listed at eventTargets[0]`},
		{"target account of 11 digits", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:21098765432:event-bus/b"}}
		}, `account "21098765432": want 12 digits`},
		{"target account with letters", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:21098765432x:event-bus/b"}}
		}, `account "21098765432x"`},
		{"target is a queue", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:sqs:eu-west-1:210987654321:q"}}
		}, `eventTargets[0].busArn "arn:aws:sqs:eu-west-1:210987654321:q"`},
		{"target is a rule", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:rule/r"}}
		}, `resource "rule/r"`},
		{"target without region", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events::210987654321:event-bus/b"}}
		}, `region ""`},
		{"target in an unknown partition", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:azure:events:eu-west-1:210987654321:event-bus/b"}}
		}, `partition "azure"`},
		{"target bus name with a slash", func(c *StageConfig) {
			c.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/a/b"}}
		}, `resource "event-bus/a/b"`},
		{"target empty", func(c *StageConfig) { c.EventTargets = []EventTarget{{}} }, `eventTargets[0].busArn ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultStage("dev", false)
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("%+v: %v", c, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("%+v: error %v, want one mentioning %q", c, err, tt.wantErr)
			}
		})
	}
}

// Every bad setting is named, not only the first.
func TestValidateNamesEveryError(t *testing.T) {
	c := DefaultStage("dev", false)
	c.LogRetentionDays, c.APIRateLimit, c.AlarmEmail = 2, 0, "nope"
	err := c.Validate()
	for _, want := range []string{"logRetentionDays 2", "apiRateLimit 0", `alarmEmail "nope"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
}

func TestLoad(t *testing.T) {
	stages := map[string]any{
		"dev": map[string]any{},
		"carrier": map[string]any{"eventArchiveDays": float64(90), "eventTargets": []any{
			map[string]any{"providerId": "pxc", "busArn": "arn:aws:events:eu-west-1:210987654321:event-bus/nr"},
		}},
		"prod":    map[string]any{"production": true, "alarmEmail": "ops@example.com"},
		"staging": map[string]any{"production": true, "releaseTasksConcurrency": float64(25), "workflowLogLevel": "ALL"},
		"typo":    map[string]any{"logRetentionDay": float64(7)},
	}
	prodWithEmail := DefaultStage("prod", true)
	prodWithEmail.AlarmEmail = "ops@example.com"
	// "production" picks the production defaults; other keys override them.
	staging := DefaultStage("staging", true)
	staging.ReleaseTasksConcurrency, staging.WorkflowLogLevel = 25, "ALL"
	carrier := DefaultStage("carrier", false)
	carrier.EventArchiveDays = 90
	carrier.EventTargets = []EventTarget{{ProviderID: "pxc", BusARN: "arn:aws:events:eu-west-1:210987654321:event-bus/nr"}}
	tests := []struct {
		name    string
		stages  any
		want    StageConfig
		wantErr string
	}{
		{name: "dev", stages: stages, want: DefaultStage("dev", false)},
		{name: "prod", stages: stages, want: prodWithEmail},
		{name: "staging", stages: stages, want: staging},
		{name: "carrier", stages: stages, want: carrier},
		{name: "typo", stages: stages, wantErr: "logRetentionDay"},
		{name: "qa", stages: stages, wantErr: "carrier, dev, prod, staging, typo"},
		// Without cdk.json's stages, dev and prod still work.
		{name: "prod", stages: nil, want: DefaultStage("prod", true)},
		{name: "qa", stages: nil, wantErr: `unknown stage "qa"`},
		{name: "dev", stages: []any{"dev"}, wantErr: "object of stage names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadStage(tt.name, tt.stages)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadStage(%q) = %+v, %v; want an error mentioning %q", tt.name, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadStage(%q) = %+v, %v; want %+v", tt.name, got, err, tt.want)
			}
		})
	}
}

func TestLoadStageFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"app":"x","context":{"stage":"dev","stages":{
		"dev":{"releaseTasksConcurrency":3},
		"prod":{"production":true},
		"broken":{"logRetentionDays":2}}}}`)
	tests := []struct {
		name, path, stage string
		wantConcurrency   int
		wantErr           string
	}{
		{name: "named stage", path: good, stage: "prod", wantConcurrency: 5},
		{name: "default stage", path: good, stage: "", wantConcurrency: 3},
		{name: "unknown stage", path: good, stage: "qa", wantErr: `unknown stage "qa"`},
		{name: "invalid stage", path: good, stage: "broken", wantErr: "logRetentionDays 2"},
		{name: "missing file", path: filepath.Join(dir, "none.json"), stage: "dev", wantErr: "none.json"},
		{name: "not JSON", path: write("bad.json", `{`), stage: "dev", wantErr: "parse"},
		{name: "no stages", path: write("empty.json", `{"context":{"stage":"dev"}}`), stage: "dev", wantErr: `no context "stages"`},
		{name: "no default", path: write("nodefault.json", `{"context":{"stages":{"dev":{}}}}`), stage: "", wantErr: "no stage named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadStageFile(tt.path, tt.stage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadFile = %+v, %v; want an error mentioning %q", cfg, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if cfg.ReleaseTasksConcurrency != tt.wantConcurrency {
				t.Errorf("releaseTasksConcurrency = %d, want %d", cfg.ReleaseTasksConcurrency, tt.wantConcurrency)
			}
		})
	}
}

func TestFindCDKFile(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("none", func(t *testing.T) {
		t.Chdir(deep)
		// The temp dir's parents may hold a cdk.json on some machines;
		// then FindFile must return a file outside root, never a
		// directory inside it.
		p, err := FindCDKFile()
		switch {
		case err == nil && strings.HasPrefix(p, root):
			t.Errorf("FindCDKFile() = %s with no cdk.json under %s", p, root)
		case err != nil && !strings.Contains(err.Error(), "none in "+deep):
			t.Errorf("FindCDKFile() error %q, want it to name %s", err, deep)
		}
	})
	want := filepath.Join(root, CDKFile)
	if err := os.WriteFile(want, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("in a parent", func(t *testing.T) {
		t.Chdir(deep)
		got, err := FindCDKFile()
		if err != nil || got != want {
			t.Errorf("FindCDKFile() = %q, %v; want %q", got, err, want)
		}
	})
}

// The repository's cdk.json is found from this package and its default
// stage loads, as the local harness loads it.
func TestRepositoryFile(t *testing.T) {
	path, err := FindCDKFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadStageFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Stage != "dev" || cfg.ReleaseTasksConcurrency != 5 || cfg.ReleaseTasksReservedConcurrency != 0 || cfg.AccountConcurrencyQuota != 10 {
		t.Errorf("default stage = %s with releaseTasksConcurrency %d, reservation %d, account quota %d; want dev with 5, none, 10",
			cfg.Stage, cfg.ReleaseTasksConcurrency, cfg.ReleaseTasksReservedConcurrency, cfg.AccountConcurrencyQuota)
	}
}

// TestNameAndEmailShapes holds validStageName and looksLikeEmail to the
// patterns they implement, on every string of up to 4 characters over an
// alphabet of the characters that matter, and on a few longer ones.
func TestNameAndEmailShapes(t *testing.T) {
	namePattern := regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	emailPattern := regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	alphabet := []string{"a", "Z", "0", "-", "@", ".", " ", "\t", "\v", "é"}
	inputs := []string{"", strings.Repeat("a", 32), strings.Repeat("a", 33), "ops@example.com", "ops@@example.com", "o ps@example.com"}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, n-1)
		}
	}
	grow("", 4)
	for _, s := range inputs {
		if got, want := validStageName(s), namePattern.MatchString(s); got != want {
			t.Errorf("validStageName(%q) = %v; the pattern says %v", s, got, want)
		}
		if got, want := looksLikeEmail(s), emailPattern.MatchString(s); got != want {
			t.Errorf("looksLikeEmail(%q) = %v; the pattern says %v", s, got, want)
		}
	}
}

func TestEventTargetAccount(t *testing.T) {
	tests := []struct{ arn, want string }{
		{"arn:aws:events:eu-west-1:210987654321:event-bus/nr", "210987654321"},
		{"arn:aws:events:eu-west-1:2109876543:event-bus/nr", ""},
		{"not an arn", ""},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			if got := (EventTarget{ProviderID: "pxc", BusARN: tt.arn}).Account(); got != tt.want {
				t.Errorf("Account() = %q, want %q", got, tt.want)
			}
		})
	}
}
