package stack

import (
	"slices"
	"strings"
	"testing"
)

func TestNoWildcardActions(t *testing.T) {
	for _, cfg := range []Config{dev, prod} {
		s := synthStack(t, cfg)
		for _, st := range s.policyStatements() {
			for _, a := range st.actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s/%s: policy %s grants %q", cfg.Stage, strings.Join(st.roles, ","), st.policy, a)
				}
			}
		}
	}
}

func TestFunctionGrants(t *testing.T) {
	s := synthStack(t, dev)
	machine := s.logicalID(t, s.stack.StateMachine)
	table := s.logicalID(t, s.stack.Table)
	secret := s.logicalID(t, s.stack.ZoomSecret)
	bus := s.logicalID(t, s.stack.Bus)
	queue := s.logicalID(t, s.stack.Releases.Queue)
	key := s.logicalID(t, s.stack.ZoomTokensKey)
	tests := []struct {
		function string
		// allowed maps an action to a logical id its resource must name.
		allowed map[string]string
		denied  []string
	}{
		// The API wakes the releases that waited for the customer's Zoom
		// connection (SendTaskSuccess), exchanges codes and revokes tokens
		// with the Zoom app's credentials (the value only) and seals the
		// tokens.
		{FunctionAPI, map[string]string{
			"states:StartExecution":         machine,
			"states:SendTaskSuccess":        machine,
			"dynamodb:Query":                table,
			"dynamodb:PutItem":              table,
			"secretsmanager:GetSecretValue": secret,
			"kms:GenerateDataKey":           key,
			"kms:Decrypt":                   key,
		}, []string{"secretsmanager:DescribeSecret", "events:PutEvents", "dynamodb:Scan", "dynamodb:BatchWriteItem", "states:SendTaskFailure"}},
		// The webhook writes when Zoom says a customer removed the app
		// (app_deauthorized: the grant is no longer connected); it never
		// sees the tokens themselves.
		{FunctionWebhook, map[string]string{
			"states:SendTaskSuccess":        machine,
			"secretsmanager:GetSecretValue": secret,
			"dynamodb:GetItem":              table,
			"dynamodb:UpdateItem":           table, // ZGRANT#* only (TestTableGrantsAreTheStoresCalls)
		}, []string{"dynamodb:PutItem", "dynamodb:DeleteItem", "states:StartExecution", "kms:Decrypt", "kms:GenerateDataKey"}},
		{FunctionReleaseTasks, map[string]string{
			"dynamodb:PutItem":              table,
			"dynamodb:Query":                table,
			"secretsmanager:GetSecretValue": secret,
			"states:StartExecution":         machine, // the successor of a long wait
			"kms:GenerateDataKey":           key,     // a refreshed token is sealed again
			"kms:Decrypt":                   key,
		}, []string{"states:SendTaskSuccess", "states:StopExecution", "events:PutEvents", "sqs:SendMessage", "sqs:ReceiveMessage"}},
		{FunctionReleaseBatch, map[string]string{
			"dynamodb:PutItem":              table,
			"dynamodb:Query":                table,
			"secretsmanager:GetSecretValue": secret,
			"states:SendTaskSuccess":        machine,
			"states:SendTaskFailure":        machine,
			"sqs:ReceiveMessage":            queue,
			"sqs:DeleteMessage":             queue,
			"kms:GenerateDataKey":           key,
			"kms:Decrypt":                   key,
		}, []string{"states:StartExecution", "states:StopExecution", "events:PutEvents", "sqs:SendMessage"}},
		{FunctionNotify, map[string]string{
			"events:PutEvents":    bus,
			"dynamodb:GetRecords": table,
		}, []string{"dynamodb:PutItem", "states:StartExecution", "secretsmanager:GetSecretValue"}},
		{FunctionReconcile, map[string]string{
			"dynamodb:Query":           table,
			"dynamodb:PutItem":         table,
			"states:StartExecution":    machine,
			"states:DescribeExecution": machine,
		}, []string{"secretsmanager:GetSecretValue", "events:PutEvents", "states:SendTaskSuccess"}},
		// The expiry sweep reads the pending numbers and writes their
		// changes and publishes reminders; the dev stage has no sender, so
		// no SES (TestExpirySender). It scans the table for the one-time
		// backfill of the pending keys (TestTableGrantsAreTheStoresCalls).
		{FunctionExpiry, map[string]string{
			"dynamodb:Query":   table,
			"dynamodb:PutItem": table,
			"dynamodb:GetItem": table,
			"dynamodb:Scan":    table,
			"events:PutEvents": bus,
		}, []string{"ses:SendEmail", "states:StartExecution", "secretsmanager:GetSecretValue", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			fn := s.stack.Functions.ByName()[tt.function]
			role := s.logicalID(t, fn.Role())
			var mine []statement
			for _, st := range s.policyStatements() {
				if slices.Contains(st.roles, role) {
					mine = append(mine, st)
				}
			}
			for action, resource := range tt.allowed {
				ok := false
				for _, st := range mine {
					if slices.Contains(st.actions, action) && strings.Contains(jsonString(t, st.raw["Resource"]), `"`+resource+`"`) {
						ok = true
					}
				}
				if !ok {
					t.Errorf("role %s may not %s on %s", role, action, resource)
				}
			}
			for _, action := range tt.denied {
				for _, st := range mine {
					if slices.Contains(st.actions, action) {
						t.Errorf("role %s may %s", role, action)
					}
				}
			}
		})
	}
}

func TestStateMachineMayInvokeOnlyTasks(t *testing.T) {
	s := synthStack(t, dev)
	role := s.logicalID(t, s.stack.StateMachine.Role())
	tasks := s.functionID(t, FunctionReleaseTasks)
	invokes := 0
	for _, st := range s.policyStatements() {
		if !slices.Contains(st.roles, role) || !slices.Contains(st.actions, "lambda:InvokeFunction") {
			continue
		}
		invokes++
		res := jsonString(t, st.raw["Resource"])
		for _, id := range []string{s.functionID(t, FunctionAPI), s.functionID(t, FunctionWebhook), s.functionID(t, FunctionNotify), s.functionID(t, FunctionReleaseBatch)} {
			if strings.Contains(res, id) {
				t.Errorf("the state machine may invoke %s", id)
			}
		}
		if !strings.Contains(res, `"`+tasks+`"`) {
			t.Errorf("lambda:InvokeFunction on %s, want the tasks function", res)
		}
	}
	if invokes == 0 {
		t.Error("the state machine may not invoke the tasks function")
	}
}

// release-batch may do exactly what it needs, each on its own resource:
// the store's calls, the Zoom rate limiter's UpdateItem, the Zoom secret,
// sealing and unsealing the customers' Zoom tokens, answering the workflow's task tokens, and what Lambda's poller does with
// its role on the release queue (the CDK's SQS event source grants it).
func TestReleaseBatchGrantsExactly(t *testing.T) {
	s := synthStack(t, dev)
	table := s.logicalID(t, s.stack.Table)
	want := map[string]string{
		"dynamodb:GetItem":              table,
		"dynamodb:BatchGetItem":         table,
		"dynamodb:Query":                table, // and the named indexes (TestTableGrantsAreTheStoresCalls)
		"dynamodb:PutItem":              table,
		"dynamodb:UpdateItem":           table, // RATE#* and ZGRANT#* only (TestTableGrantsAreTheStoresCalls)
		"secretsmanager:GetSecretValue": s.logicalID(t, s.stack.ZoomSecret),
		"secretsmanager:DescribeSecret": s.logicalID(t, s.stack.ZoomSecret),
		"states:SendTaskSuccess":        s.logicalID(t, s.stack.StateMachine),
		"states:SendTaskFailure":        s.logicalID(t, s.stack.StateMachine),
		"sqs:ReceiveMessage":            s.logicalID(t, s.stack.Releases.Queue),
		"sqs:DeleteMessage":             s.logicalID(t, s.stack.Releases.Queue),
		"sqs:ChangeMessageVisibility":   s.logicalID(t, s.stack.Releases.Queue),
		"sqs:GetQueueAttributes":        s.logicalID(t, s.stack.Releases.Queue),
		"sqs:GetQueueUrl":               s.logicalID(t, s.stack.Releases.Queue),
		"kms:GenerateDataKey":           s.logicalID(t, s.stack.ZoomTokensKey), // purpose zoom-oauth-tokens only (TestZoomTokensKeyGrants)
		"kms:Decrypt":                   s.logicalID(t, s.stack.ZoomTokensKey),
	}
	role := s.logicalID(t, s.stack.Functions.ReleaseBatch.Role())
	got := map[string]bool{}
	for _, st := range s.policyStatements() {
		if !slices.Contains(st.roles, role) {
			continue
		}
		res := jsonString(t, st.raw["Resource"])
		for _, a := range st.actions {
			if strings.HasPrefix(a, "logs:") || strings.HasPrefix(a, "xray:") {
				continue // its own log group and X-Ray: TestFunctionRolesWriteOnlyTheirOwnLogs, TestWildcardResourcesAreXRayAndLogDeliveryOnly
			}
			got[a] = true
			resource, ok := want[a]
			switch {
			case !ok:
				t.Errorf("release-batch may %s on %s", a, res)
			case !strings.Contains(res, `"`+resource+`"`):
				t.Errorf("release-batch may %s on %s, want only %s", a, res, resource)
			}
		}
	}
	for a, resource := range want {
		if !got[a] {
			t.Errorf("release-batch may not %s on %s", a, resource)
		}
	}
}

// The Release state sends to the release queue (sqs:sendMessage.waitForTaskToken):
// the state machine may SendMessage there and nothing else in SQS, and no
// function may send to the queue.
func TestStateMachineSendsOnlyToTheReleaseQueue(t *testing.T) {
	s := synthStack(t, dev)
	machine := s.logicalID(t, s.stack.StateMachine.Role())
	queue := s.logicalID(t, s.stack.Releases.Queue)
	sends := 0
	for _, st := range s.policyStatements() {
		var sqs []string
		for _, a := range st.actions {
			if strings.HasPrefix(a, "sqs:") {
				sqs = append(sqs, a)
			}
		}
		if len(sqs) == 0 {
			continue
		}
		res := jsonString(t, st.raw["Resource"])
		if !slices.Contains(st.roles, machine) {
			// (notify and start-release send to their own dead-letter queues.)
			if slices.Contains(sqs, "sqs:SendMessage") && strings.Contains(res, `"`+queue+`"`) {
				t.Errorf("roles %v may send to the release queue: %s", st.roles, res)
			}
			continue
		}
		sends++
		if !slices.Equal(sqs, []string{"sqs:SendMessage"}) || res != `{"Fn::GetAtt":["`+queue+`","Arn"]}` {
			t.Errorf("the state machine may %v on %s, want sqs:SendMessage on the release queue %s only", sqs, res, queue)
		}
	}
	if sends != 1 {
		t.Errorf("%d SQS statements for the state machine, want 1 (SendMessage on the release queue)", sends)
	}
}

// The store (shared/store) makes GetItem, BatchGetItem, Query and PutItem
// calls (transactions hold Puts only): a function may make those on the
// table, Query its named indexes, and nothing else on table data, except
// release-tasks' and release-batch's Zoom rate limiter (shared/ratelimit),
// release-tasks' concurrency cap (shared/slots), and start-release's pacing
// (shared/pacing), which may update their own items, and the expiry
// function's Scan of the table (not its indexes) for the one-time backfill
// of the pending keys (store.BackfillPending).
func TestTableGrantsAreTheStoresCalls(t *testing.T) {
	s := synthStack(t, dev)
	table := s.logicalID(t, s.stack.Table)
	allowed := []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem"}
	indexes, updates, scans := 0, 0, 0
	for _, st := range s.policyStatements() {
		res := jsonString(t, st.raw["Resource"])
		if !strings.Contains(res, `"`+table+`"`) || strings.Contains(res, "StreamArn") {
			continue
		}
		if slices.Equal(st.actions, []string{"dynamodb:DeleteItem"}) {
			// Only the API deletes: Connect Zoom's used states, a
			// customer's old Zoom account lookup, an unlinked provider's
			// link, a provider's webhook.
			want := `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["OAUTHSTATE#*","ZACCT#*","PROV#*","WEBHOOK#*"]}}`
			if got := jsonString(t, st.raw["Condition"]); strings.Join(st.roles, ",") != s.logicalID(t, s.stack.Functions.API.Role()) || got != want {
				t.Errorf("policy %s: DeleteItem for %v with condition %s, want the API alone with %s", st.policy, st.roles, got, want)
			}
			continue
		}
		if slices.Equal(st.actions, []string{"dynamodb:Scan"}) {
			want := `{"Fn::GetAtt":["` + table + `","Arn"]}`
			if strings.Join(st.roles, ",") != s.logicalID(t, s.stack.Functions.Expiry.Role()) || res != want {
				t.Errorf("policy %s: Scan for %v on %s, want the expiry function alone on %s", st.policy, st.roles, res, want)
			}
			scans++
			continue
		}
		if slices.Equal(st.actions, []string{"dynamodb:UpdateItem"}) {
			// Each UpdateItem grant names one function and only its own
			// items: release-tasks the Zoom rate limiter's counters, the
			// concurrency cap's slots and the start queues (a busy check's
			// next turn), start-release the start queues.
			want, ok := map[string]string{
				s.logicalID(t, s.stack.Functions.ReleaseTasks.Role()): `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["RATE#*","SLOT#*","PACE#*","ZGRANT#*"]}}`,
				s.logicalID(t, s.stack.Functions.StartRelease.Role()): `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["PACE#*"]}}`,
				s.logicalID(t, s.stack.Functions.ReleaseBatch.Role()): `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["RATE#*","ZGRANT#*"]}}`,
				s.logicalID(t, s.stack.Functions.API.Role()):          `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["ZGRANT#*","CUST#*"]}}`,
				s.logicalID(t, s.stack.Functions.Webhook.Role()):      `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["ZGRANT#*"]}}`,
			}[strings.Join(st.roles, ",")]
			if !ok {
				t.Errorf("policy %s: UpdateItem for %v, want release-tasks, release-batch or start-release alone", st.policy, st.roles)
			} else if got := jsonString(t, st.raw["Condition"]); got != want {
				t.Errorf("policy %s: UpdateItem with condition %s, want %s", st.policy, got, want)
			}
			updates++
			continue
		}
		for _, a := range st.actions {
			if !slices.Contains(allowed, a) {
				t.Errorf("policy %s grants %s on the table", st.policy, a)
			}
		}
		if strings.Contains(res, "/index/*") {
			t.Errorf("policy %s grants every index: %s", st.policy, res)
		}
		if strings.Contains(res, "/index/") {
			indexes++
			if !slices.Equal(st.actions, []string{"dynamodb:Query"}) {
				t.Errorf("policy %s grants %v on indexes, want Query only", st.policy, st.actions)
			}
			for _, ix := range []string{"ByCustomer", "ByProvider", "InFlight"} {
				if !strings.Contains(res, "/index/"+ix) {
					t.Errorf("policy %s does not name index %s: %s", st.policy, ix, res)
				}
			}
		}
	}
	// api, webhook, release-tasks, release-batch, reconcile and expiry query the indexes.
	if indexes != 6 {
		t.Errorf("%d index grants, want 6", indexes)
	}
	if updates != 5 {
		t.Errorf("%d UpdateItem grants, want 5 (release-tasks, release-batch, start-release, api, webhook)", updates)
	}
	if scans != 1 {
		t.Errorf("%d Scan grants, want 1 (expiry)", scans)
	}
}

// Every function has its own role, with no AWS managed policy: it may write
// its own log group and nothing else in CloudWatch Logs.
func TestFunctionRolesWriteOnlyTheirOwnLogs(t *testing.T) {
	s := synthStack(t, dev)
	roles := map[string]bool{}
	for _, name := range FunctionNames() {
		fn := s.stack.Functions.ByName()[name]
		role := s.logicalID(t, fn.Role())
		if roles[role] {
			t.Errorf("%s shares its role %s", name, role)
		}
		roles[role] = true
		props := s.resources[role]["Properties"].(map[string]any)
		if m, ok := props["ManagedPolicyArns"]; ok {
			t.Errorf("%s: role has managed policies %v", name, m)
		}
		fnProps := s.resources[s.functionID(t, name)]["Properties"].(map[string]any)
		logGroup := refOf(fnProps["LoggingConfig"].(map[string]any)["LogGroup"])
		writes := 0
		for _, st := range s.policyStatements() {
			if !slices.Contains(st.roles, role) {
				continue
			}
			for _, a := range st.actions {
				if !strings.HasPrefix(a, "logs:") {
					continue
				}
				writes++
				if res := jsonString(t, st.raw["Resource"]); !strings.Contains(res, `"`+logGroup+`"`) || strings.Count(res, "Fn::GetAtt") != 1 {
					t.Errorf("%s may %s on %s, want only its log group %s", name, a, res, logGroup)
				}
			}
		}
		if writes == 0 {
			t.Errorf("%s may not write its log group", name)
		}
	}
}

// "*" resources are allowed only for actions that have no resource-level
// permissions: X-Ray's and CloudWatch Logs' vended log delivery. This keeps
// the cdk-nag IAM5 suppressions (which match the resource "*", not the
// actions) from hiding a broader grant later.
func TestWildcardResourcesAreXRayAndLogDeliveryOnly(t *testing.T) {
	noResourceLevel := []string{
		"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
		"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
		"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
	}
	for _, cfg := range []Config{dev, prod} {
		s := synthStack(t, cfg)
		for _, st := range s.policyStatements() {
			if !slices.Contains(stringsOf(st.raw["Resource"]), "*") {
				continue
			}
			for _, a := range st.actions {
				if !slices.Contains(noResourceLevel, a) {
					t.Errorf("%s: policy %s grants %s on every resource", cfg.Stage, st.policy, a)
				}
			}
		}
	}
}
