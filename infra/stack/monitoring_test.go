package stack

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// wantAlarms are the alarms docs/OPERATIONS.md explains: name suffix →
// namespace, metric, statistic.
var wantAlarms = map[string][3]string{
	"workflow-failed":             {"AWS/States", "ExecutionsFailed", "Sum"},
	"workflow-timed-out":          {"AWS/States", "ExecutionsTimedOut", "Sum"},
	"workflow-throttled":          {"AWS/States", "ExecutionThrottled", "Sum"},
	"api-5xx":                     {"AWS/ApiGateway", "5XXError", "Sum"},
	"notify-dead-letters":         {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"},
	"start-release-dead-letters":  {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"},
	"event-delivery-dead-letters": {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"},
	"release-queue-dead-letters":  {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"},
	"release-queue-age":           {"AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum"},
	"webhook-dead-letters":        {"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"},
	"deliver-webhooks-errors":     {"AWS/Lambda", "Errors", "Sum"},
	"deliver-webhooks-throttles":  {"AWS/Lambda", "Throttles", "Sum"},
	"start-release-errors":        {"AWS/Lambda", "Errors", "Sum"},
	"start-release-throttles":     {"AWS/Lambda", "Throttles", "Sum"},
	"api-errors":                  {"AWS/Lambda", "Errors", "Sum"},
	"api-throttles":               {"AWS/Lambda", "Throttles", "Sum"},
	"webhook-errors":              {"AWS/Lambda", "Errors", "Sum"},
	"webhook-throttles":           {"AWS/Lambda", "Throttles", "Sum"},
	"release-tasks-errors":        {"AWS/Lambda", "Errors", "Sum"},
	"release-tasks-throttles":     {"AWS/Lambda", "Throttles", "Sum"},
	"release-batch-errors":        {"AWS/Lambda", "Errors", "Sum"},
	"release-batch-throttles":     {"AWS/Lambda", "Throttles", "Sum"},
	"notify-errors":               {"AWS/Lambda", "Errors", "Sum"},
	"notify-throttles":            {"AWS/Lambda", "Throttles", "Sum"},
	"reconcile-errors":            {"AWS/Lambda", "Errors", "Sum"},
	"reconcile-throttles":         {"AWS/Lambda", "Throttles", "Sum"},
	"expiry-errors":               {"AWS/Lambda", "Errors", "Sum"},
	"expiry-throttles":            {"AWS/Lambda", "Throttles", "Sum"},
	"notify-iterator-age":         {"AWS/Lambda", "IteratorAge", "Maximum"},
	"start-release-iterator-age":  {"AWS/Lambda", "IteratorAge", "Maximum"},
}

func TestAlarms(t *testing.T) {
	s := synthStack(t, dev)
	topic := s.logicalID(t, s.stack.Monitoring.Topic)
	alarms := map[string]map[string]any{}
	for _, props := range s.ofType("AWS::CloudWatch::Alarm") {
		name, _ := props["AlarmName"].(string)
		alarms[strings.TrimPrefix(name, "number-release-dev-")] = props
	}
	if got, want := slices.Sorted(maps.Keys(alarms)), slices.Sorted(maps.Keys(wantAlarms)); !slices.Equal(got, want) {
		t.Fatalf("alarms %v, want %v", got, want)
	}
	for name, want := range wantAlarms {
		t.Run(name, func(t *testing.T) {
			a := alarms[name]
			if a["Namespace"] != want[0] || a["MetricName"] != want[1] || a["Statistic"] != want[2] {
				t.Errorf("metric %v/%v (%v), want %v", a["Namespace"], a["MetricName"], a["Statistic"], want)
			}
			threshold := float64(1)
			switch {
			case strings.HasSuffix(name, "-iterator-age"):
				threshold = 3_600_000 // an hour behind, in ms; stream records expire after 24 h
			case name == "release-queue-age":
				threshold = 900 // s: past the Release state's 10-minute wait, so nobody consumes the queue
			}
			if a["Threshold"] != threshold || a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" ||
				a["Period"] != float64(300) || a["TreatMissingData"] != "notBreaching" {
				t.Errorf("alarm %v >= %v per %vs (missing data %v), want >= %v per 300s, notBreaching",
					a["ComparisonOperator"], a["Threshold"], a["Period"], a["TreatMissingData"], threshold)
			}
			periods := float64(1)
			switch name {
			case "release-tasks-throttles":
				periods = 2 // the workflow retries Lambda's throttling; only lasting throttling alarms
			case "release-tasks-errors":
				periods = 3 // handled outcomes are named errors too; only lasting errors alarm
			}
			if a["EvaluationPeriods"] != periods || a["DatapointsToAlarm"] != periods {
				t.Errorf("EvaluationPeriods %v, DatapointsToAlarm %v, want %v", a["EvaluationPeriods"], a["DatapointsToAlarm"], periods)
			}
			for _, key := range []string{"AlarmActions", "OKActions"} {
				if got := jsonString(t, a[key]); got != `[{"Ref":"`+topic+`"}]` {
					t.Errorf("%s = %s, want the alarm topic", key, got)
				}
			}
			if d, _ := a["AlarmDescription"].(string); !strings.Contains(d, "docs/OPERATIONS.md") {
				t.Errorf("description %q does not point to docs/OPERATIONS.md", d)
			}
		})
	}
	// Each function's alarms watch that function; both stream readers have
	// an iterator age alarm.
	for _, name := range FunctionNames() {
		kinds := []string{"-errors", "-throttles"}
		if name == FunctionNotify || name == FunctionStartRelease {
			kinds = append(kinds, "-iterator-age")
		}
		for _, kind := range kinds {
			dims := jsonString(t, alarms[name+kind]["Dimensions"])
			if !strings.Contains(dims, `"Ref":"`+s.functionID(t, name)+`"`) {
				t.Errorf("%s%s watches %s", name, kind, dims)
			}
		}
	}
	// The queue alarms watch the release queue and its dead-letter queue.
	for name, queue := range map[string]string{
		"release-queue-age":          s.logicalID(t, s.stack.Releases.Queue),
		"release-queue-dead-letters": s.logicalID(t, s.stack.Releases.DLQ),
	} {
		if dims := jsonString(t, alarms[name]["Dimensions"]); dims != `[{"Name":"QueueName","Value":{"Fn::GetAtt":["`+queue+`","QueueName"]}}]` {
			t.Errorf("%s watches %s, want queue %s", name, dims, queue)
		}
	}
	stage := s.logicalID(t, s.stack.API.DeploymentStage())
	if dims := jsonString(t, alarms["api-5xx"]["Dimensions"]); dims != `[{"Name":"ApiName","Value":"number-release-dev"},{"Name":"Stage","Value":{"Ref":"`+stage+`"}}]` {
		t.Errorf("api-5xx dimensions %s, want the API's dev stage", dims)
	}
}

// Alarms must be able to publish to the encrypted topic: CloudWatch needs the
// key (an AWS managed key cannot grant it) and the topic policy's allowance
// (enforcing TLS replaces the default topic policy).
func TestAlarmTopicIsEncryptedAndReachable(t *testing.T) {
	s := synthStack(t, dev)
	key := s.logicalID(t, s.stack.Monitoring.TopicKey)
	s.tmpl.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
		"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{key, "Arn"}},
	})
	cloudwatch := map[string]any{"Service": "cloudwatch.amazonaws.com"}
	// The statement AWS documents for services publishing to an encrypted
	// topic, exactly: no condition the KMS request may not carry.
	s.tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
		"EnableKeyRotation": true,
		"KeyPolicy": assertions.Match_ObjectLike(&map[string]any{
			"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Sid": "CloudWatchAlarmsPublish", "Effect": "Allow", "Principal": cloudwatch,
				"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*",
			}}),
		}),
	})
	s.tmpl.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), map[string]any{
		"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
			"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Action": "sns:Publish",
					"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				}),
				assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Allow", "Action": "sns:Publish", "Principal": cloudwatch,
				}),
			}),
		}),
	})
	s.tmpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	p := synthStack(t, prod)
	if got := p.resources[p.logicalID(t, p.stack.Monitoring.TopicKey)]["DeletionPolicy"]; got != "Retain" {
		t.Errorf("prod: the alarm topic's key has DeletionPolicy %v, want Retain", got)
	}
}

func TestAlarmEmailSubscription(t *testing.T) {
	cfg := dev
	cfg.AlarmEmail = "oncall@example.com"
	synth(t, cfg).HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
		"Protocol": "email", "Endpoint": "oncall@example.com",
	})
}

func TestDashboardShowsEveryAlarm(t *testing.T) {
	s := synthStack(t, dev)
	boards := s.ofType("AWS::CloudWatch::Dashboard")
	if len(boards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(boards))
	}
	for _, props := range boards {
		if props["DashboardName"] != "number-release-dev" {
			t.Errorf("DashboardName = %v", props["DashboardName"])
		}
		body := jsonString(t, props["DashboardBody"])
		for id := range s.ofType("AWS::CloudWatch::Alarm") {
			if !strings.Contains(body, id) {
				t.Errorf("the dashboard does not show alarm %s", id)
			}
		}
		// The release queue's backlog and age are graphed.
		for _, metric := range []string{"ApproximateAgeOfOldestMessage", "ApproximateNumberOfMessagesVisible"} {
			if !strings.Contains(body, metric+`\",\"QueueName\",\"",{"Fn::GetAtt":["`+s.logicalID(t, s.stack.Releases.Queue)+`","QueueName"]}`) {
				t.Errorf("the dashboard does not graph the release queue's %s", metric)
			}
		}
		// Both stream readers' lag is graphed.
		for _, fn := range []string{FunctionNotify, FunctionStartRelease} {
			if !strings.Contains(body, `IteratorAge\",\"FunctionName\",\"",{"Ref":"`+s.functionID(t, fn)+`"}`) {
				t.Errorf("the dashboard does not graph the %s function's IteratorAge", fn)
			}
		}
	}
}

// No function reserves concurrency in the dev and prod stacks (a
// reservation fails to deploy on an account whose quota is under 100 plus
// it); release-tasks gets its concurrency cap, enforced by its lease
// semaphore, as RELEASE_TASKS_CONCURRENCY. The opt-in reservation still
// reserves when a stage asks for it.
func TestReleaseTasksConcurrency(t *testing.T) {
	for _, stage := range []Config{dev, prod} {
		t.Run(stage.Stage, func(t *testing.T) {
			s := synthStack(t, stage)
			for _, props := range s.ofType("AWS::Lambda::Function") {
				if got, set := props["ReservedConcurrentExecutions"]; set {
					t.Errorf("%v: ReservedConcurrentExecutions = %v, want none", props["Description"], got)
				}
			}
			props := s.resources[s.functionID(t, FunctionReleaseTasks)]["Properties"].(map[string]any)
			vars := props["Environment"].(map[string]any)["Variables"].(map[string]any)
			if got := vars["RELEASE_TASKS_CONCURRENCY"]; got != "5" {
				t.Errorf("release-tasks RELEASE_TASKS_CONCURRENCY = %v, want \"5\"", got)
			}
		})
	}
	capped := dev
	capped.ReleaseTasksConcurrency, capped.AccountConcurrencyQuota = 25, 1000
	props := synthStack(t, capped)
	vars := props.resources[props.functionID(t, FunctionReleaseTasks)]["Properties"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)
	if got := vars["RELEASE_TASKS_CONCURRENCY"]; got != "25" {
		t.Errorf("RELEASE_TASKS_CONCURRENCY = %v, want the stage's 25", got)
	}

	reserved := dev
	reserved.ReleaseTasksReservedConcurrency, reserved.AccountConcurrencyQuota = 5, 1000
	s := synthStack(t, reserved)
	for _, name := range FunctionNames() {
		props := s.resources[s.functionID(t, name)]["Properties"].(map[string]any)
		got, set := props["ReservedConcurrentExecutions"]
		switch {
		case name == FunctionReleaseTasks && got != float64(5):
			t.Errorf("opt-in: %s ReservedConcurrentExecutions = %v, want 5", name, got)
		case name != FunctionReleaseTasks && set:
			t.Errorf("opt-in: %s ReservedConcurrentExecutions = %v, want none", name, got)
		}
	}
}

func TestReconcilerRunsOnASchedule(t *testing.T) {
	s := synthStack(t, dev)
	fn := s.functionID(t, FunctionReconcile)
	s.tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"ScheduleExpression": "rate(15 minutes)",
		"State":              "ENABLED",
		"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
			"Arn":         map[string]any{"Fn::GetAtt": []any{fn, "Arn"}},
			"RetryPolicy": map[string]any{"MaximumRetryAttempts": 0},
		})},
	})
	s.tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
		"Action":       "lambda:InvokeFunction",
		"FunctionName": map[string]any{"Fn::GetAtt": []any{fn, "Arn"}},
		"Principal":    "events.amazonaws.com",
	})
}
