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
	"numberrelease/shared/ident"
)

// CDKFile is the CDK's configuration file at the repository root.
const CDKFile = "cdk.json"

// StageConfig is one deployment stage's settings (dev, prod, local): what
// differs between deployments. cdk.json's context "stages" holds one entry
// per stage; the CDK app (infra/stack) builds the stack from it, and the
// local harness reads the same entries (LoadStageFile), so a setting such
// as release-tasks' concurrency cap has one source for both. The field
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
	// ReleaseTasksConcurrency is N, the most release-tasks invocations that
	// work with Zoom at once (check, release): the size of the lease
	// semaphore in the table (shared/slots), passed to the function as
	// RELEASE_TASKS_CONCURRENCY; 1 to MaxReleaseTasksConcurrency. It needs
	// no reserved Lambda concurrency, and the local system enforces it with
	// the same code. At most half of AccountConcurrencyQuota: the other half
	// serves everything else, including the quick answers of the checks
	// that find every slot held; and with release-batch's
	// ReleaseBatchMaxConcurrency invocations it must leave at least one of
	// the quota free.
	ReleaseTasksConcurrency int `json:"releaseTasksConcurrency"`
	// ReleaseTasksReservedConcurrency, when above 0, also reserves that many
	// concurrent executions for release-tasks (opt-in; default 0, none).
	// Lambda keeps 100 of an account's concurrency unreserved, so the
	// deploy then fails unless the account's quota is at least 100 plus
	// this (docs/DEPLOY.md); Validate refuses a reservation the stage's
	// AccountConcurrencyQuota cannot hold.
	ReleaseTasksReservedConcurrency int `json:"releaseTasksReservedConcurrency"`
	// AccountConcurrencyQuota is the account's Lambda concurrency quota the
	// stage is sized for (10 on a new account). AWS enforces the real one;
	// the local Lambda front enforces this value on all the functions it
	// runs together, as Lambda does, answering 429 above it. At least
	// MinAccountConcurrencyQuota.
	AccountConcurrencyQuota int `json:"accountConcurrencyQuota"`
	// APIRateLimit (requests per second, steady) and APIBurstLimit are the
	// API stage's default throttle. API Gateway applies it to each method
	// on its own: every method has a token bucket of this size.
	APIRateLimit  int `json:"apiRateLimit"`
	APIBurstLimit int `json:"apiBurstLimit"`
	// WebhookRateLimit and WebhookBurstLimit are the throttle of Zoom's
	// webhook method (POST /zoom/webhook), set apart from the stage's
	// default so Zoom's callbacks keep headroom of their own.
	WebhookRateLimit  int `json:"webhookRateLimit"`
	WebhookBurstLimit int `json:"webhookBurstLimit"`
	// TenantRateLimit (requests per second, steady) and TenantBurst are
	// each caller's budget in the api function (a customer tenant or a
	// provider, from the verified token): beyond it the answer is 429 with
	// Retry-After (shared/httpapi, docs/SECURITY.md).
	TenantRateLimit int `json:"tenantRateLimit"`
	TenantBurst     int `json:"tenantBurst"`
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
	// "customer" (the customer's account, DELETE
	// /number_management/numbers) or
	// "carrier" (the Provider Exchange, DELETE
	// /number_management/peering_numbers, which needs CarrierCode).
	ReleaseMode string `json:"releaseMode"`
	// CarrierCode is the carrier's Zoom Provider Exchange code (carrier
	// mode only).
	CarrierCode int `json:"carrierCode"`
	// CarrierAccountID is the carrier's own Zoom account id (carrier mode
	// only): the account of the Server-to-Server OAuth app whose
	// credentials the ZoomCredentials secret holds. Carrier mode checks
	// numbers in the carrier's view of Zoom and removes them with tokens of
	// this account.
	CarrierAccountID string `json:"carrierAccountId"`
	// ZoomRateLimits are the Zoom account's per-second API limits release-tasks
	// paces itself to: "pro" (default), "business", or
	// "light=N,medium=N,heavy=N" (ParseZoomLimits).
	ZoomRateLimits string `json:"zoomRateLimits"`
	// ZoomRateShare is the per cent (1–100) of those limits the service
	// uses. Zoom counts every app of a customer's account against the same
	// limits, so a release that used them all would starve the customer's
	// other integrations for minutes.
	ZoomRateShare int `json:"zoomRateShare"`

	// EventArchiveDays is how long the bus's archive keeps every event for
	// replay (EventBridge archive retention, in days).
	EventArchiveDays int `json:"eventArchiveDays"`
	// EventTargets are the carriers whose own EventBridge bus receives
	// their events: for each, a rule on our bus matching its provider_id
	// forwards to its bus (docs/DEPLOY.md). Events are kept in the archive
	// and the bus's event log whether or not a carrier has a target.
	EventTargets []EventTarget `json:"eventTargets"`

	// FrontDoor makes the stack serve the pages and the API on one origin:
	// a CloudFront distribution in front of a private S3 bucket (the
	// pages) and the REST API (frontdoor.go). On by default; off only
	// where CloudFront does not exist (LocalStack's community edition),
	// and then the stage needs an external Identity issuer and a
	// DomainName saying where the pages are served.
	FrontDoor bool `json:"frontDoor"`
	// DomainName is the custom domain the front door answers on
	// (numbers.example.com), with CertificateARN, an ACM certificate for
	// it in us-east-1 (CloudFront's region). Both empty: the
	// distribution's own *.cloudfront.net name. The customer app is
	// https://<domain>/, the portal https://<domain>/portal.
	DomainName     string `json:"domainName"`
	CertificateARN string `json:"certificateArn"`
	// Identity names an external OpenID Connect issuer. Empty (Issuer
	// ""): the stack creates its own Amazon Cognito user pool.
	Identity Identity `json:"identity"`
	// OperatorEmail, when set, makes the stack create the first operator
	// of its user pool: invited by email, in the operator group.
	OperatorEmail string `json:"operatorEmail"`

	// ExpiryTTLDays is how long a number may stay PENDING_APPROVAL before
	// the expiry sweep makes it EXPIRED (shared/expiry); default 30.
	ExpiryTTLDays int `json:"expiryTtlDays"`
	// ExpiryReminderDays are how many days before expiry the customer's
	// contacts are reminded, each at most once; default [7, 1]; [] for none.
	ExpiryReminderDays []int `json:"expiryReminderDays"`
	// SenderEmail is the address the service's emails (expiry reminders and
	// notices) come from: an Amazon SES identity verified in the stack's
	// region (docs/DEPLOY.md). Empty: no email is sent, and the sweep logs
	// each one it did not send.
	SenderEmail string `json:"senderEmail"`
}

// EventTarget is one carrier's delivery: the events of ProviderID go to
// the EventBridge bus BusARN (usually in the carrier's own account, whose
// bus policy must let our account put events).
type EventTarget struct {
	// ProviderID is the carrier's provider id (the provider_id of its
	// events and its tokens).
	ProviderID string `json:"providerId"`
	// BusARN is the carrier's bus:
	// arn:<partition>:events:<region>:<12-digit account>:event-bus/<name>.
	BusARN string `json:"busArn"`
}

// Account returns the 12-digit account of the target's bus ("" when the
// ARN is not well formed).
func (t EventTarget) Account() string {
	account, err := busAccount(t.BusARN)
	if err != nil {
		return ""
	}
	return account
}

// DefaultStage is the configuration of a stage that cdk.json does not
// override: production settings when production is true.
func DefaultStage(name string, production bool) StageConfig {
	c := StageConfig{
		Stage:                    name,
		Production:               production,
		LogRetentionDays:         30,
		WorkflowLogLevel:         "ALL",
		ReleaseTasksConcurrency:  5,
		AccountConcurrencyQuota:  10,
		APIRateLimit:             50,
		APIBurstLimit:            100,
		WebhookRateLimit:         20,
		WebhookBurstLimit:        40,
		TenantRateLimit:          10,
		TenantBurst:              20,
		APIGatewayCloudWatchRole: true,
		RecheckSecondsMin:        60,
		ReleaseMode:              string(domain.ModeCustomer),
		ZoomRateLimits:           "pro",
		ZoomRateShare:            DefaultZoomRateShare,
		EventArchiveDays:         30,
		FrontDoor:                true,
		ExpiryTTLDays:            30,
		ExpiryReminderDays:       []int{7, 1},
	}
	if production {
		c.LogRetentionDays = 90
		c.WorkflowLogLevel = "ERROR"
		c.EventArchiveDays = 365
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
	if c.ReleaseTasksConcurrency < 1 || c.ReleaseTasksConcurrency > MaxReleaseTasksConcurrency {
		bad("releaseTasksConcurrency %d: want 1 to %d", c.ReleaseTasksConcurrency, MaxReleaseTasksConcurrency)
	}
	if c.ReleaseTasksReservedConcurrency < 0 {
		bad("releaseTasksReservedConcurrency %d: want 0 (none, the default) or more", c.ReleaseTasksReservedConcurrency)
	} else if r := c.ReleaseTasksReservedConcurrency; r > 0 && c.AccountConcurrencyQuota < unreservedMinimum+r {
		bad("releaseTasksReservedConcurrency %d needs an account concurrency quota of at least %d (Lambda keeps %d unreserved), "+
			"but accountConcurrencyQuota is %d: remove the reservation, or raise the account's quota and set accountConcurrencyQuota to it",
			r, unreservedMinimum+r, unreservedMinimum, c.AccountConcurrencyQuota)
	}
	batch := ReleaseBatchMaxConcurrency
	if q := c.AccountConcurrencyQuota; q < MinAccountConcurrencyQuota {
		bad("accountConcurrencyQuota %d: want at least %d (10 on a new account): release-batch runs up to %d invocations at once, "+
			"release-tasks needs at least 1, and the API, the webhook and the stream consumers at least 1 more",
			q, MinAccountConcurrencyQuota, batch)
	} else if half := max(1, q/2); c.ReleaseTasksConcurrency > half {
		bad("releaseTasksConcurrency %d is more than half of accountConcurrencyQuota %d: slot holders could take the whole quota, "+
			"and Lambda would refuse the API, the webhook, the stream consumers and the busy checks' quick answers; want at most %d",
			c.ReleaseTasksConcurrency, q, half)
	} else if rest := q - c.ReleaseTasksConcurrency - batch; rest < 1 {
		bad("releaseTasksConcurrency %d and release-batch's %d concurrent invocations would take all of accountConcurrencyQuota %d, "+
			"and Lambda would refuse the API, the webhook and the stream consumers; want releaseTasksConcurrency at most %d",
			c.ReleaseTasksConcurrency, batch, q, q-batch-1)
	}
	if c.APIRateLimit < 1 || c.APIBurstLimit < 1 {
		bad("apiRateLimit %d, apiBurstLimit %d: want both at least 1", c.APIRateLimit, c.APIBurstLimit)
	}
	if c.WebhookRateLimit < 1 || c.WebhookBurstLimit < 1 {
		bad("webhookRateLimit %d, webhookBurstLimit %d: want both at least 1", c.WebhookRateLimit, c.WebhookBurstLimit)
	}
	if c.TenantRateLimit < 1 || c.TenantBurst < 1 {
		bad("tenantRateLimit %d, tenantBurst %d: want both at least 1", c.TenantRateLimit, c.TenantBurst)
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
	if mode, err := ParseReleaseMode(c.ReleaseMode); err == nil && mode == domain.ModeCarrier && c.CarrierAccountID == "" {
		bad("releaseMode carrier needs carrierAccountId, the carrier's own Zoom account id (of the Zoom app whose credentials release-tasks holds)")
	} else if c.CarrierAccountID != "" {
		if err := CheckZoomAccountID(c.CarrierAccountID); err != nil {
			bad("carrierAccountId: %w", err)
		}
	}
	if _, err := ParseZoomLimits(c.ZoomRateLimits); err != nil {
		bad("zoomRateLimits: %w", err)
	}
	if c.ZoomRateShare < 1 || c.ZoomRateShare > 100 {
		bad("zoomRateShare %d: want a per cent from 1 to 100", c.ZoomRateShare)
	}
	if c.EventArchiveDays < 1 || c.EventArchiveDays > maxArchiveDays {
		bad("eventArchiveDays %d: want 1 to %d", c.EventArchiveDays, maxArchiveDays)
	}
	if c.ExpiryTTLDays < 1 || c.ExpiryTTLDays > maxExpiryDays {
		bad("expiryTtlDays %d: want 1 to %d", c.ExpiryTTLDays, maxExpiryDays)
	}
	for i, d := range c.ExpiryReminderDays {
		if d < 1 || d >= c.ExpiryTTLDays {
			bad("expiryReminderDays[%d] %d: want at least 1 and less than expiryTtlDays %d", i, d, c.ExpiryTTLDays)
		}
	}
	if c.SenderEmail != "" && !looksLikeEmail(c.SenderEmail) {
		bad("senderEmail %q is not an email address", c.SenderEmail)
	}
	errs = append(errs, validateEventTargets(c.EventTargets)...)
	errs = append(errs, c.validateFrontDoor()...)
	return errors.Join(errs...)
}

// unreservedMinimum is the concurrency Lambda keeps unreserved in every
// account: a reservation that leaves less fails to deploy.
const unreservedMinimum = 100

// ReleaseBatchMaxConcurrency is the most release-batch invocations its SQS
// event source mapping runs at once (ScalingConfig MaximumConcurrency; 2 is
// the least AWS accepts), and the most the local queue poller runs
// (workflow.ReleaseBatchMaxConcurrency is this value). It is here because
// Validate sizes the account's quota with it.
const ReleaseBatchMaxConcurrency = 2

// MinAccountConcurrencyQuota is the smallest accountConcurrencyQuota a
// stage may declare: release-batch's event source mapping runs up to
// ReleaseBatchMaxConcurrency invocations, release-tasks needs one, and
// everything else (API, webhook, stream consumers) one more.
const MinAccountConcurrencyQuota = ReleaseBatchMaxConcurrency + 2

// MaxReleaseTasksConcurrency bounds releaseTasksConcurrency (and
// RELEASE_TASKS_CONCURRENCY): a refused acquisition tries every slot once.
const MaxReleaseTasksConcurrency = 1000

// maxExpiryDays bounds expiryTtlDays at a year.
const maxExpiryDays = 366

// maxArchiveDays bounds eventArchiveDays at ten years, the longest log
// retention too.
const maxArchiveDays = 3653

// validateEventTargets reports every bad carrier delivery, each naming the
// entry and the value: an invalid provider id, a bus ARN that is not an
// EventBridge bus's, or a provider id listed twice.
func validateEventTargets(targets []EventTarget) []error {
	var errs []error
	seen := map[string]int{}
	for i, t := range targets {
		if err := ident.Check(t.ProviderID); err != nil {
			errs = append(errs, fmt.Errorf("eventTargets[%d].providerId %q is not a provider id: %w", i, t.ProviderID, err))
		} else if j, dup := seen[t.ProviderID]; dup {
			errs = append(errs, fmt.Errorf("eventTargets[%d].providerId %q: already listed at eventTargets[%d] (one bus per carrier)", i, t.ProviderID, j))
		} else {
			seen[t.ProviderID] = i
		}
		if _, err := busAccount(t.BusARN); err != nil {
			errs = append(errs, fmt.Errorf("eventTargets[%d].busArn %q: %w", i, t.BusARN, err))
		}
	}
	return errs
}

// busAccount checks that s is an EventBridge bus ARN,
// arn:<partition>:events:<region>:<account>:event-bus/<name>, and returns
// its account.
func busAccount(s string) (string, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" {
		return "", errors.New("want arn:aws:events:<region>:<account>:event-bus/<name>")
	}
	partition, region, account, resource := parts[1], parts[3], parts[4], parts[5]
	switch partition {
	case "aws", "aws-cn", "aws-us-gov":
	default:
		return "", fmt.Errorf("partition %q: want aws, aws-cn or aws-us-gov", partition)
	}
	if !validRegion(region) {
		return "", fmt.Errorf("region %q is not a region name such as eu-west-1", region)
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", fmt.Errorf("account %q: want 12 digits", account)
	}
	if name, ok := strings.CutPrefix(resource, "event-bus/"); !ok || !validBusName(name) {
		return "", fmt.Errorf("resource %q: want event-bus/<name> (1 to 256 of letters, digits, '.', '_', '-')", resource)
	}
	return account, nil
}

// validRegion reports whether s has a region's shape: letters and digits
// in '-'-separated parts, such as eu-west-1 or us-gov-west-1.
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return false
		}
	}
	return true
}

// validBusName reports whether s is a custom bus name EventBridge accepts
// as a target: 1 to 256 of letters, digits, '.', '_' and '-'.
func validBusName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}
