package stack

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagVariants are the configurations cdk-nag must pass: the stages, an
// emulator-like one (no account role) and one with email.
func nagVariants() []Config {
	local := dev
	local.Stage, local.APIGatewayCloudWatchRole = "local", false
	local.LogRetentionDays, local.RecheckSecondsMin = 1, 5
	email := prod
	email.AlarmEmail = "oncall@example.com"
	return []Config{dev, prod, local, email, carrier, customDomain, externalIssuer, withOperator, noFrontDoor, withSender}
}

// cdk-nag's AwsSolutions pack leaves no unsuppressed error or warning.
func TestNag(t *testing.T) {
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	for _, cfg := range nagVariants() {
		t.Run(cfg.Stage+cfg.AlarmEmail, func(t *testing.T) {
			ann := assertions.Annotations_FromStack(synthStack(t, cfg).stack.Stack)
			for _, m := range *ann.FindError(jsii.String("*"), nag) {
				t.Errorf("error %s: %v", *m.Id, m.Entry.Data)
			}
			for _, m := range *ann.FindWarning(jsii.String("*"), nag) {
				t.Errorf("warning %s: %v", *m.Id, m.Entry.Data)
			}
		})
	}
}

// With an account and region (as the CDK CLI resolves them), ARNs hold
// literals instead of tokens; the suppressions must still match.
func TestNagWithEnvironment(t *testing.T) {
	cfg := prod
	cfg.BuildDir = testBuildDir
	app := newTestApp(t)
	st, err := New(app, "Bound", cfg, &awscdk.StackProps{Env: &awscdk.Environment{
		Account: jsii.String("123456789012"), Region: jsii.String("eu-west-1"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	AddNagChecks(app)
	nag := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	ann := assertions.Annotations_FromStack(st.Stack)
	for _, m := range *ann.FindError(jsii.String("*"), nag) {
		t.Errorf("error %s: %v", *m.Id, m.Entry.Data)
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), nag) {
		t.Errorf("warning %s: %v", *m.Id, m.Entry.Data)
	}
}

// hashSuffix is the 8 hex digits the CDK appends to logical ids.
var hashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// wantSuppressions is every accepted cdk-nag finding, as "resource rule
// [applies to]" (resource: logical id without its hash). Adding one means
// adding it here, next to its reason in nag.go: review it.
var wantSuppressions = map[string][]string{
	"common": {
		"ApiFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"NotifyFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"DeliverWebhooksFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"EventDeliveryFailures AwsSolutions-SQS3",
		"NotifyFailures AwsSolutions-SQS3",
		"StartReleaseFailures AwsSolutions-SQS3",
		"StartReleaseFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ReleaseBatchFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ReconcileFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ExpiryFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ReconcileFunctionRoleDefaultPolicy AwsSolutions-IAM5 [regex /^Resource::arn:.+:states:.+:execution:.*ReleaseWorkflow.*:\\*$/g]",
		"ReleaseTasksFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ReleaseWorkflowRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"RestApi AwsSolutions-APIG2",
		"RestApiCloudWatchRole AwsSolutions-IAM4 [Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
		"RestApiDeploymentStage{stage} AwsSolutions-APIG3",
		"WebhookFunctionRoleDefaultPolicy AwsSolutions-IAM5 [Resource::*]",
		"ZoomCredentials AwsSolutions-SMG4",
		// The front door (frontdoor.go) and the user pool (identity.go).
		"Distribution AwsSolutions-CFR1",
		"Distribution AwsSolutions-CFR2",
		"UserPool AwsSolutions-COG8",
		"CustomCDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C256MiB AwsSolutions-L1",
		"PagesDeploymentRoleDefaultPolicy AwsSolutions-IAM5 [Action::s3:GetBucket*, Action::s3:GetObject*, Action::s3:List*, Action::s3:Abort*, Action::s3:DeleteObject*]",
		"PagesDeploymentRoleDefaultPolicy AwsSolutions-IAM5 [regex /^Resource::(<Pages[0-9A-F]{8}\\.Arn>|arn:.+:s3:::cdk-[a-z0-9]+-assets-.+)\\/\\*$/g]",
	},
	// Without a custom domain, CloudFront's default certificate.
	"defaultCertificate": {"Distribution AwsSolutions-CFR4"},
	// Every method of the API: auth is in the handlers (APIG4), not in a
	// Cognito authorizer (COG4).
	"methods": {"AwsSolutions-APIG4", "AwsSolutions-COG4"},
	// Production logs workflow errors only.
	"prod": {"ReleaseWorkflow AwsSolutions-SF1"},
}

// suppressions reads the cdk-nag suppressions recorded in the template.
func suppressions(t *testing.T, s *synthesized) (list []string, reasons map[string]string) {
	t.Helper()
	reasons = map[string]string{}
	for id, r := range s.resources {
		meta, _ := r["Metadata"].(map[string]any)
		nag, _ := meta["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, raw := range rules {
			rule := raw.(map[string]any)
			entry := hashSuffix.ReplaceAllString(id, "") + " " + rule["id"].(string)
			if applies, ok := rule["applies_to"].([]any); ok {
				var parts []string
				for _, a := range applies {
					switch a := a.(type) {
					case string:
						parts = append(parts, a)
					case map[string]any:
						parts = append(parts, fmt.Sprintf("regex %v", a["regex"]))
					}
				}
				entry += " [" + strings.Join(parts, ", ") + "]"
			}
			list = append(list, entry)
			reasons[entry], _ = rule["reason"].(string)
		}
	}
	slices.Sort(list)
	return list, reasons
}

// Every suppression is listed here and carries a real reason.
func TestNagSuppressionsAreReviewed(t *testing.T) {
	for _, cfg := range []Config{dev, prod, customDomain} {
		t.Run(cfg.Stage+cfg.DomainName, func(t *testing.T) {
			s := synthStack(t, cfg)
			got, reasons := suppressions(t, s)
			var want []string
			for _, w := range wantSuppressions["common"] {
				want = append(want, strings.ReplaceAll(w, "{stage}", cfg.Stage))
			}
			if cfg.WorkflowLogLevel != "ALL" {
				want = append(want, wantSuppressions["prod"]...)
			}
			if cfg.DomainName == "" {
				want = append(want, wantSuppressions["defaultCertificate"]...)
			}
			methods := 0
			for id := range s.ofType("AWS::ApiGateway::Method") {
				methods++
				for _, rule := range wantSuppressions["methods"] {
					want = append(want, hashSuffix.ReplaceAllString(id, "")+" "+rule)
				}
			}
			if methods != len(specRoutes) {
				t.Errorf("%d methods, want %d", methods, len(specRoutes))
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("suppressions differ from the reviewed list\ngot:\n  %s\nwant:\n  %s",
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for entry, reason := range reasons {
				if len(reason) < 80 {
					t.Errorf("%s: reason %q is too short to explain anything", entry, reason)
				}
			}
			t.Logf("%s: %d reviewed suppressions", cfg.Stage, len(got))
		})
	}
}

// The suppressions are each used, and the figures are known: how many
// findings cdk-nag raised and had suppressed, by rule.
func TestNagSuppressedFindings(t *testing.T) {
	methods := len(specRoutes) // one APIG4 and one COG4 per method of the API
	want := map[string]map[string]int{
		"dev": {
			"AwsSolutions-APIG2": 1, "AwsSolutions-APIG3": 1, "AwsSolutions-APIG4": methods, "AwsSolutions-COG4": methods,
			"AwsSolutions-IAM4": 1, "AwsSolutions-SMG4": 1, "AwsSolutions-SQS3": 3,
			// The functions' and the workflow's X-Ray and log delivery (10),
			// and the pages' copier: five actions and two buckets (7).
			"AwsSolutions-IAM5": 18,
			// The front door and the user pool.
			"AwsSolutions-CFR1": 1, "AwsSolutions-CFR2": 1, "AwsSolutions-CFR4": 1, "AwsSolutions-COG8": 1, "AwsSolutions-L1": 1,
		},
	}
	want["prod"] = maps.Clone(want["dev"])
	want["prod"]["AwsSolutions-SF1"] = 1
	for _, cfg := range []Config{dev, prod} {
		t.Run(cfg.Stage, func(t *testing.T) {
			cfg.BuildDir = testBuildDir
			app := newTestApp(t)
			st, err := New(app, "Counted", cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{LogIgnores: jsii.Bool(true)}), nil)
			ann := assertions.Annotations_FromStack(st.Stack)
			got := map[string]int{}
			total := 0
			rule := regexp.MustCompile(`\]?: (AwsSolutions-[A-Za-z]+[0-9]+) was triggered but suppressed`)
			// "CdkNagSuppression[...]: AwsSolutions-IAM5 was triggered but suppressed."
			for _, m := range *ann.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("CdkNagSuppression.*"))) {
				msg := fmt.Sprint(m.Entry.Data)
				if r := rule.FindStringSubmatch(msg); r != nil {
					got[r[1]]++
					total++
				}
			}
			if !maps.Equal(got, want[cfg.Stage]) {
				t.Errorf("suppressed findings %v, want %v", got, want[cfg.Stage])
			}
			t.Logf("%s: %d findings suppressed: %v", cfg.Stage, total, got)
		})
	}
}
