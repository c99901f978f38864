package stack

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestFunctionsAreGoOnGraviton(t *testing.T) {
	s := synthStack(t, dev)
	fns := s.ofType("AWS::Lambda::Function")
	// Ours, and the CDK's function that copies the pages into their
	// bucket during a deploy (TestPagesDeployment): no other CDK helper.
	helpers := 0
	for id := range fns {
		if strings.HasPrefix(id, "CustomCDKBucketDeployment") {
			helpers++
		}
	}
	if len(fns) != len(FunctionNames())+1 || helpers != 1 {
		t.Fatalf("%d Lambda functions, want %d and the pages' copier: %v",
			len(fns), len(FunctionNames()), slices.Sorted(maps.Keys(fns)))
	}
	tests := []struct {
		name    string
		timeout float64
	}{
		{FunctionAPI, 15},
		{FunctionWebhook, 15},
		{FunctionReleaseTasks, 30},
		{FunctionReleaseBatch, 60},
		{FunctionNotify, 30},
		{FunctionReconcile, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := fns[s.functionID(t, tt.name)]
			want := map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"TracingConfig": map[string]any{"Mode": "Active"},
				"MemorySize":    float64(256),
				"Timeout":       tt.timeout,
			}
			for k, v := range want {
				if got := jsonString(t, props[k]); got != jsonString(t, v) {
					t.Errorf("%s = %s, want %s", k, got, jsonString(t, v))
				}
			}
			logs, _ := props["LoggingConfig"].(map[string]any)
			if ref := refOf(logs["LogGroup"]); s.resources[ref]["Type"] != "AWS::Logs::LogGroup" {
				t.Errorf("LoggingConfig = %v, want a log group of the stack", props["LoggingConfig"])
			}
		})
	}
}

func TestFunctionEnvironment(t *testing.T) {
	s := synthStack(t, dev)
	tests := []struct {
		name string
		// refs are the variables taken from a parameter or resource, by the
		// logical id they refer to ("" for any reference).
		refs map[string]string
		// literals are the variables the stage's configuration sets.
		literals map[string]string
	}{
		// The API verifies the stack's user pool's tokens (the issuer and
		// the pages' client: TestAPIAuthEnvironment) and connects
		// customers' Zoom accounts: the Zoom app, API and redirect URL
		// (the front door's customer app), and the key sealing the tokens.
		{FunctionAPI, map[string]string{
			"TABLE_NAME": "", "STATE_MACHINE_ARN": "",
			"COGNITO_ISSUER": "", "COGNITO_CLIENT_ID": s.logicalID(t, s.stack.SignIn.Client),
			"ZOOM_SECRET_ARN": "", "ZOOM_API_BASE": "ZoomApiBase", "ZOOM_OAUTH_URL": "ZoomOAuthUrl",
			"ZOOM_REDIRECT_URL": "", "ZOOM_TOKENS_KEY_ARN": "", "WEBHOOK_SECRETS_KEY_ARN": "",
		}, map[string]string{"TENANT_RATE_LIMIT": "10", "TENANT_BURST": "20", "RELEASE_MODE": "customer"}},
		{FunctionWebhook, map[string]string{"TABLE_NAME": "", "ZOOM_WEBHOOK_SECRET_ARN": ""}, nil},
		{FunctionReleaseTasks, map[string]string{
			"TABLE_NAME": "", "ZOOM_SECRET_ARN": "", "ZOOM_TOKENS_KEY_ARN": "",
			"ZOOM_API_BASE": "ZoomApiBase", "ZOOM_OAUTH_URL": "ZoomOAuthUrl",
			"RECHECK_SECONDS": "RecheckSeconds", "MAX_WAIT_SECONDS": "MaxWaitSeconds",
			"RETRY_BUDGET_SECONDS": "RetryBudgetSeconds",
		}, map[string]string{"RELEASE_MODE": "customer", "CARRIER_CODE": "0", "ZOOM_RATE_LIMITS": "pro", "ZOOM_RATE_SHARE": "50", "RELEASE_TASKS_CONCURRENCY": "5"}},
		// release-batch calls Zoom as release-tasks does: the same API,
		// credentials, mode and rate limits.
		{FunctionReleaseBatch, map[string]string{
			"TABLE_NAME": "", "ZOOM_SECRET_ARN": "", "ZOOM_TOKENS_KEY_ARN": "", "RELEASE_QUEUE_URL": "",
			"ZOOM_API_BASE": "ZoomApiBase", "ZOOM_OAUTH_URL": "ZoomOAuthUrl",
		}, map[string]string{"RELEASE_MODE": "customer", "CARRIER_CODE": "0", "ZOOM_RATE_LIMITS": "pro", "ZOOM_RATE_SHARE": "50"}},
		{FunctionNotify, map[string]string{"EVENT_BUS_NAME": ""}, nil},
		{FunctionStartRelease, map[string]string{"STATE_MACHINE_ARN": "", "TABLE_NAME": ""}, map[string]string{"ZOOM_RATE_LIMITS": "pro", "ZOOM_RATE_SHARE": "50"}},
		// deliver-webhooks: its queue (the retries' visibility) and the
		// key the signing secrets are sealed with.
		{FunctionDeliverWebhooks, map[string]string{"TABLE_NAME": "", "WEBHOOK_QUEUE_URL": "", "WEBHOOK_SECRETS_KEY_ARN": ""}, nil},
		{FunctionReconcile, map[string]string{
			"TABLE_NAME": "", "STATE_MACHINE_ARN": "", "GRACE_SECONDS": "ReconcileGraceSeconds",
			"MAX_WAIT_SECONDS": "MaxWaitSeconds", "RETRY_BUDGET_SECONDS": "RetryBudgetSeconds",
		}, nil},
		// expiry: the stage's time to live and reminders, in seconds, and
		// its sender ("" in dev: no email, TestExpirySender).
		{FunctionExpiry, map[string]string{"TABLE_NAME": "", "EVENT_BUS_NAME": ""},
			map[string]string{"TTL_SECONDS": "2592000", "REMINDER_SECONDS": "604800,86400", "SENDER_EMAIL": ""}},
	}
	secretID := s.logicalID(t, s.stack.ZoomSecret)
	keyArn := jsonString(t, map[string]any{"Fn::GetAtt": []any{s.logicalID(t, s.stack.ZoomTokensKey), "Arn"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := s.resources[s.functionID(t, tt.name)]["Properties"].(map[string]any)
			vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
			wantKeys := append(slices.Collect(maps.Keys(tt.refs)), "LOG_LEVEL")
			wantKeys = append(wantKeys, slices.Collect(maps.Keys(tt.literals))...)
			sort.Strings(wantKeys)
			if got := slices.Sorted(maps.Keys(vars)); !slices.Equal(got, wantKeys) {
				t.Fatalf("variables %v, want %v", got, wantKeys)
			}
			if vars["LOG_LEVEL"] != "info" {
				t.Errorf("LOG_LEVEL = %v", vars["LOG_LEVEL"])
			}
			for k, want := range tt.literals {
				if vars[k] != want {
					t.Errorf("%s = %v, want %q", k, vars[k], want)
				}
			}
			for k, ref := range tt.refs {
				// No literal values: everything comes from a parameter or a
				// resource of the stack.
				if _, literal := vars[k].(string); literal {
					t.Errorf("%s is the literal %q", k, vars[k])
					continue
				}
				if ref != "" && refOf(vars[k]) != ref {
					t.Errorf("%s = %s, want Ref %s", k, jsonString(t, vars[k]), ref)
				}
				if strings.HasPrefix(k, "ZOOM") && strings.HasSuffix(k, "SECRET_ARN") && refOf(vars[k]) != secretID {
					t.Errorf("%s = %s, want the Zoom secret %s", k, jsonString(t, vars[k]), secretID)
				}
				if (k == "ZOOM_TOKENS_KEY_ARN" || k == "WEBHOOK_SECRETS_KEY_ARN") && jsonString(t, vars[k]) != keyArn {
					t.Errorf("%s = %s, want the Zoom tokens key's ARN %s", k, jsonString(t, vars[k]), keyArn)
				}
			}
		})
	}
}

// TestCarrierModeByStage: a stage configured for the Provider Exchange
// hands its mode, carrier code, the carrier's own Zoom account and Zoom
// limits to both functions that call Zoom.
func TestCarrierModeByStage(t *testing.T) {
	cfg := dev
	cfg.ReleaseMode, cfg.CarrierCode, cfg.CarrierAccountID, cfg.ZoomRateLimits, cfg.ZoomRateShare = "carrier", 4242, "cArRiEr-1", "business", 30
	s := synthStack(t, cfg)
	for _, fn := range []string{FunctionReleaseTasks, FunctionReleaseBatch} {
		props := s.resources[s.functionID(t, fn)]["Properties"].(map[string]any)
		vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
		for k, want := range map[string]string{"RELEASE_MODE": "carrier", "CARRIER_CODE": "4242", "ZOOM_CARRIER_ACCOUNT_ID": "cArRiEr-1",
			"ZOOM_RATE_LIMITS": "business", "ZOOM_RATE_SHARE": "30"} {
			if vars[k] != want {
				t.Errorf("%s: %s = %v, want %q", fn, k, vars[k], want)
			}
		}
	}
	// The API knows the mode too (Connect Zoom is optional in carrier mode).
	props := s.resources[s.functionID(t, FunctionAPI)]["Properties"].(map[string]any)
	if got := props["Environment"].(map[string]any)["Variables"].(map[string]any)["RELEASE_MODE"]; got != "carrier" {
		t.Errorf("api: RELEASE_MODE = %v, want carrier", got)
	}
}

func TestLogRetentionByStage(t *testing.T) {
	tests := []struct {
		cfg    Config
		days   float64
		level  string
		policy string
	}{
		{dev, 30, "ALL", "Delete"},
		{prod, 90, "ERROR", "Retain"},
	}
	for _, tt := range tests {
		t.Run(tt.cfg.Stage, func(t *testing.T) {
			s := synthStack(t, tt.cfg)
			groups := s.ofType("AWS::Logs::LogGroup")
			// One per function, the state machine's, the API's access and
			// execution logs, the bus's event log, the pages' copier's: no
			// log group is left to be created without retention.
			if want := len(FunctionNames()) + 5; len(groups) != want {
				t.Errorf("%d log groups, want %d", len(groups), want)
			}
			for id, props := range groups {
				if props["RetentionInDays"] != tt.days {
					t.Errorf("%s: RetentionInDays = %v, want %v", id, props["RetentionInDays"], tt.days)
				}
				if got := s.resources[id]["DeletionPolicy"]; got != tt.policy {
					t.Errorf("%s: DeletionPolicy = %v, want %v", id, got, tt.policy)
				}
			}
			s.tmpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
				"LoggingConfiguration": assertions.Match_ObjectLike(&map[string]any{
					"Level":                tt.level,
					"IncludeExecutionData": false,
				}),
			})
		})
	}
	// The retention comes from the stage's configuration.
	week := dev
	week.LogRetentionDays = 7
	for id, props := range synthStack(t, week).ofType("AWS::Logs::LogGroup") {
		if props["RetentionInDays"] != float64(7) {
			t.Errorf("logRetentionDays 7: %s keeps %v days", id, props["RetentionInDays"])
		}
	}
}

func TestStateMachineRunsTheSharedDefinition(t *testing.T) {
	s := synthStack(t, dev)
	machines := s.ofType("AWS::StepFunctions::StateMachine")
	if len(machines) != 1 {
		t.Fatalf("%d state machines, want 1", len(machines))
	}
	tasksID := s.functionID(t, FunctionReleaseTasks)
	queueID := s.logicalID(t, s.stack.Releases.Queue)
	for _, props := range machines {
		if props["StateMachineType"] != "STANDARD" {
			t.Errorf("StateMachineType = %v", props["StateMachineType"])
		}
		if jsonString(t, props["TracingConfiguration"]) != `{"Enabled":true}` {
			t.Errorf("TracingConfiguration = %v", props["TracingConfiguration"])
		}
		logging, _ := props["LoggingConfiguration"].(map[string]any)
		dest := jsonString(t, logging["Destinations"])
		if !strings.Contains(dest, "ReleaseWorkflowLogs") {
			t.Errorf("log destinations = %s", dest)
		}
		def := jsonString(t, props["DefinitionString"])
		for _, want := range []string{
			"arn:aws:states:::lambda:invoke",
			"lambda:invoke.waitForTaskToken",
			`{"Fn::GetAtt":["` + tasksID + `","Arn"]}`,
			// The Release state hands numbers to the release queue.
			"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			`{"Ref":"` + queueID + `"}`,
		} {
			if !strings.Contains(def, want) {
				t.Errorf("DefinitionString lacks %s", want)
			}
		}
		if strings.Contains(def, "${") {
			t.Error("DefinitionString has an unfilled ${...} placeholder")
		}
	}
}

// TestStreamConsumers: notify reads every history insert from the table's
// stream, start-release only the approvals, each with its own event source
// mapping, retries and dead-letter queue. (The third mapping, release-batch
// on the release queue: TestReleaseQueueConsumer.)
func TestStreamConsumers(t *testing.T) {
	s := synthStack(t, dev)
	table := s.ofType("AWS::DynamoDB::GlobalTable")
	for id, props := range table {
		if got := jsonString(t, props["StreamSpecification"]); got != `{"StreamViewType":"NEW_IMAGE"}` {
			t.Errorf("%s: StreamSpecification = %s", id, got)
		}
	}
	stream := `{"Fn::GetAtt":["` + s.logicalID(t, s.stack.Table) + `","StreamArn"]}`
	mappings := map[string]map[string]any{}
	for id, props := range s.ofType("AWS::Lambda::EventSourceMapping") {
		if jsonString(t, props["EventSourceArn"]) == stream {
			mappings[id] = props
		}
	}
	if len(mappings) != 2 {
		t.Fatalf("%d event source mappings on the table's stream, want 2 (notify, start-release)", len(mappings))
	}
	common := map[string]string{
		"FunctionResponseTypes":      `["ReportBatchItemFailures"]`,
		"StartingPosition":           `"LATEST"`,
		"BatchSize":                  `100`,
		"BisectBatchOnFunctionError": `true`,
		"EventSourceArn":             stream,
	}
	want := map[string]map[string]string{
		s.functionID(t, FunctionNotify): {
			"MaximumRetryAttempts": `5`,
			"FilterCriteria":       `{"Filters":[{"Pattern":"{\"dynamodb\":{\"Keys\":{\"SK\":{\"S\":[{\"prefix\":\"H#\"}]}}},\"eventName\":[\"INSERT\"]}"}]}`,
			"DestinationConfig":    `{"OnFailure":{"Destination":{"Fn::GetAtt":["` + s.logicalID(t, s.stack.NotifyDLQ) + `","Arn"]}}}`,
		},
		s.functionID(t, FunctionStartRelease): {
			"MaximumRetryAttempts": `10`,
			"FilterCriteria":       `{"Filters":[{"Pattern":"{\"dynamodb\":{\"Keys\":{\"SK\":{\"S\":[{\"prefix\":\"H#\"}]}},\"NewImage\":{\"from\":{\"S\":[\"PENDING_APPROVAL\",\"FAILED\"]},\"to\":{\"S\":[\"RELEASING\"]}}},\"eventName\":[\"INSERT\"]}"}]}`,
			"DestinationConfig":    `{"OnFailure":{"Destination":{"Fn::GetAtt":["` + s.logicalID(t, s.stack.StartReleaseDLQ) + `","Arn"]}}}`,
		},
	}
	for _, props := range mappings {
		fn := refOf(props["FunctionName"])
		w, ok := want[fn]
		if !ok {
			t.Errorf("an event source mapping for %s", fn)
			continue
		}
		for k, v := range common {
			w[k] = v
		}
		for k, v := range w {
			if got := jsonString(t, props[k]); got != v {
				t.Errorf("%s: %s = %s, want %s", fn, k, got, v)
			}
		}
	}
}

func TestEventBusAndSecret(t *testing.T) {
	s := synthStack(t, dev)
	s.tmpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "number-release-dev"})
	s.tmpl.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(1))
	p := synthStack(t, prod)
	p.tmpl.HasResource(jsii.String("AWS::SecretsManager::Secret"), map[string]any{"DeletionPolicy": "Retain"})
	p.tmpl.HasResourceProperties(jsii.String("AWS::Events::EventBus"), map[string]any{"Name": "number-release-prod"})
}

func TestParametersAndOutputs(t *testing.T) {
	tmpl := synth(t, dev)
	params := []struct {
		id, typ string
		def     any // nil: required
	}{
		{"ZoomApiBase", "String", "https://api.zoom.us/v2"},
		{"ZoomOAuthUrl", "String", "https://zoom.us/oauth/token"},
		{"RecheckSeconds", "Number", float64(900)},
		{"MaxWaitSeconds", "Number", float64(604800)},
		{"ReconcileGraceSeconds", "Number", float64(1800)},
		{"RetryBudgetSeconds", "Number", float64(900)},
	}
	found := *tmpl.FindParameters(jsii.String("*"), nil)
	for _, p := range params {
		t.Run(p.id, func(t *testing.T) {
			ptr, ok := found[p.id]
			if !ok || ptr == nil {
				t.Fatalf("no parameter %s", p.id)
			}
			got := *ptr
			if got["Type"] != p.typ {
				t.Errorf("Type = %v, want %s", got["Type"], p.typ)
			}
			if d, _ := got["Description"].(string); len(d) < 10 {
				t.Errorf("Description = %q", d)
			}
			if jsonString(t, got["Default"]) != jsonString(t, p.def) {
				t.Errorf("Default = %v, want %v", got["Default"], p.def)
			}
		})
	}
	tmpl.HasParameter(jsii.String("RecheckSeconds"), map[string]any{"MinValue": 60})
	// An emulator stage may re-check faster (cdk.json recheckSecondsMin).
	fast := dev
	fast.RecheckSecondsMin = 5
	synth(t, fast).HasParameter(jsii.String("RecheckSeconds"), map[string]any{"MinValue": 5})
	outputs := *tmpl.FindOutputs(jsii.String("*"), nil)
	for _, id := range []string{"TableName", "ApiUrl", "StateMachineArn", "EventBusName", "ZoomSecretArn", "AlarmTopicArn", "DashboardName",
		"NotifyDeadLetterQueueUrl", "StartReleaseDeadLetterQueueUrl", "EventLogGroupName", "EventDeliveryDeadLetterQueueUrl", "ReleaseDeadLetterQueueUrl",
		"AppUrl", "PortalUrl", "DistributionDomainName", "DistributionId", "UserPoolId", "WebhookQueueUrl", "WebhookDeadLetterQueueUrl"} {
		if _, ok := outputs[id]; !ok {
			t.Errorf("no output %s", id)
		}
	}
	if d := jsonString(t, outputs["ZoomSecretArn"]); !strings.Contains(d, "put-secret-value") {
		t.Errorf("ZoomSecretArn output does not say how to store the credentials: %s", d)
	}
	if len(outputs) != 19 {
		t.Errorf("outputs %v, want 19 (no duplicate API endpoint)", slices.Sorted(maps.Keys(outputs)))
	}
	// No parameter names the token issuer or the customer app's URL any
	// more: they are the stack's (or the stage's).
	for _, gone := range []string{"JwtIssuer", "JwtAudience", "JwksUrl", "ZoomRedirectUrl"} {
		if _, ok := found[gone]; ok {
			t.Errorf("parameter %s is still declared", gone)
		}
	}
	if n := len(found); n != len(params)+1 { // and the CDK's BootstrapVersion
		t.Errorf("%d parameters, want %d and BootstrapVersion", n, len(params))
	}
}
