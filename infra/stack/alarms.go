package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// operationsDoc is where every alarm's meaning and remedy is written down.
const operationsDoc = "docs/OPERATIONS.md"

// Monitoring is what tells operators that something needs them.
type Monitoring struct {
	// Topic receives every alarm's ALARM and OK transitions.
	Topic awssns.Topic
	// TopicKey encrypts Topic.
	TopicKey awskms.Key
	// Alarms by construct id (WorkflowExecutionsFailed, ApiErrors, ...).
	Alarms    map[string]awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// alarmSpec is one alarm: metric >= threshold in `periods` consecutive
// five-minute periods.
type alarmSpec struct {
	id, name    string
	metric      awscloudwatch.IMetric
	threshold   float64
	periods     float64
	description string
}

// addMonitoring declares the alarm topic, the alarms and the dashboard.
func (nr *NumberRelease) addMonitoring(cfg Config) {
	st := nr.Stack
	prefix := "number-release-" + cfg.Stage
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	sum := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum")}
	maximum := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum")}

	// CloudWatch cannot publish to a topic encrypted with the AWS managed
	// SNS key (its policy cannot grant cloudwatch.amazonaws.com), so the
	// topic has its own key, rotated yearly. The key policy statement is the
	// one AWS documents for AWS services publishing to an encrypted topic:
	// principal cloudwatch.amazonaws.com, kms:GenerateDataKey* and
	// kms:Decrypt, Resource "*" (Amazon SNS developer guide, "Enable
	// compatibility between event sources from AWS services and encrypted
	// topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services;
	// AWS re:Post knowledge center, "How do I configure a CloudWatch alarm
	// with an encrypted SNS topic?",
	// https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns).
	// Neither page shows aws:SourceAccount or aws:SourceArn on the key
	// statement as working, and a condition the request does not carry drops
	// every notification silently, so the key statement has none. Only
	// alarms of this account can publish: the topic policy below limits
	// sns:Publish to aws:SourceAccount, and the key encrypts this topic only.
	// docs/OPERATIONS.md has the post-deploy check that an alarm's email
	// arrives.
	key := awskms.NewKey(st, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Number Release (" + cfg.Stage + "): encrypts the alarm topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removalPolicy(cfg),
		PendingWindow:     awscdk.Duration_Days(jsii.Number(7)),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
	}), jsii.Bool(false))
	sourceAccount := &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": st.Account()}}
	topic := awssns.NewTopic(st, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("Number Release " + cfg.Stage + " alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// EnforceSSL gives the topic a resource policy, which replaces the
	// default one; CloudWatch alarms must be allowed to publish explicitly.
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: sourceAccount,
	}))
	if cfg.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmail), nil))
	}

	sm, api, dlq := nr.StateMachine, nr.API.DeploymentStage(), nr.NotifyDLQ
	specs := []alarmSpec{
		{"WorkflowExecutionsFailed", "workflow-failed", sm.MetricFailed(sum), 1, 1,
			"A release execution failed. Normally its number is now FAILED with the reason (Zoom refused, bad credentials, Zoom unavailable after retries) and the customer may approve again; if recording the failure failed too, the number is still RELEASING or WAITING_FOR_UNASSIGN."},
		{"WorkflowExecutionsTimedOut", "workflow-timed-out", sm.MetricTimedOut(sum), 1, 1,
			"A release execution timed out as a whole (the definition sets no overall timeout, so only Step Functions' one-year limit or a changed definition does this): its number is stuck in RELEASING or WAITING_FOR_UNASSIGN."},
		{"WorkflowExecutionsThrottled", "workflow-throttled", sm.MetricThrottled(sum), 1, 1,
			"Step Functions throttled the release workflow (StartExecution or state transitions): approvals may have ended FAILED with 'approve again to retry'."},
		{"Api5xx", "api-5xx", api.MetricServerError(sum), 1, 1,
			"The API answered 5XX (handler error, JWKS unavailable -> 503, Lambda error or throttle, integration timeout)."},
		{"NotifyDeadLetters", "notify-dead-letters", dlq.MetricApproximateNumberOfMessagesVisible(maximum), 1, 1,
			"Status changes could not be published to EventBridge after retries; providers missed these notifications until they are re-driven."},
		{"EventDeliveryDeadLetters", "event-delivery-dead-letters", nr.Events.DeliveryDLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1, 1,
			"The event bus could not deliver events to the event log or a carrier's bus after EventBridge's retries (24 hours): the carrier's bus policy or the log group's resource policy refuses them. The archive still holds every event for replay."},
		{"StartReleaseDeadLetters", "start-release-dead-letters", nr.StartReleaseDLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1, 1,
			"Approvals whose workflow start-release could not start after retries. The reconciler starts them after ReconcileGraceSeconds (or records them FAILED with the reason after RetryBudgetSeconds more); the queue's records say which numbers and why."},
		{"ReleaseQueueDeadLetters", "release-queue-dead-letters", nr.Releases.DLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1, 1,
			"Release messages were received 5 times without release-batch answering them (it crashed, timed out, was throttled or reported them failed) and are in the release queue's dead-letter queue. Their executions stopped waiting and sent the numbers again (after retries they end FAILED); the messages say which numbers."},
		{"WebhookDeadLetters", "webhook-dead-letters", nr.Webhooks.DLQ.MetricApproximateNumberOfMessagesVisible(maximum), 1, 1,
			"Webhook deliveries failed for more than 24 hours (every attempt of the retry schedule) and are in the webhook dead-letter queue: a provider's endpoint is down, refuses (non-2xx), is too slow (10 s), or no longer resolves to a public address. The messages say which provider and change; GET /provider/v1/webhook shows the provider the failed attempts. Redrive once the receiver is fixed."},
		{"ReleaseQueueAge", "release-queue-age", nr.Releases.Queue.MetricApproximateAgeOfOldestMessage(maximum), releaseQueueAgeLimitSeconds, 1,
			"A release has waited in the release queue for 15 minutes or more (ApproximateAgeOfOldestMessage): release-batch is not consuming it (its event source mapping disabled, the function failing or throttled). The executions send their numbers again every 10 minutes and end FAILED after their retries; numbers stay RELEASING until then."},
		// The table stream keeps records for 24 hours: a reader an hour
		// behind has time to catch up before any record expires unread.
		{"NotifyIteratorAge", "notify-iterator-age", iteratorAge(nr.Functions.Notify, maximum), iteratorAgeLimitMs, 1,
			"The notify function is more than an hour behind the table stream (IteratorAge): status-change notifications are late, and stream records expire unread after 24 hours."},
		{"StartReleaseIteratorAge", "start-release-iterator-age", iteratorAge(nr.Functions.StartRelease, maximum), iteratorAgeLimitMs, 1,
			"The start-release function is more than an hour behind the table stream (IteratorAge): approvals start late; records that expire unread after 24 hours are left to the reconciler."},
	}
	for _, name := range FunctionNames() {
		fn := nr.Functions.ByName()[name]
		id := constructID(name)
		errs := alarmSpec{id + "Errors", name + "-errors", fn.MetricErrors(sum), 1, 1,
			"The " + name + " function returned errors (crashed, timed out or failed an invocation)."}
		if name == FunctionReleaseTasks {
			// Tasks answer the workflow with named errors it handles
			// (Release.Superseded, Zoom.Assigned, Zoom.Throttled, ...), and
			// Lambda counts each as an error: only errors that last are news.
			errs.periods = 3
			errs.description = "release-tasks returned errors for 15 minutes in a row. Tasks report handled outcomes as named errors too (superseded, Zoom throttled or unavailable, still assigned), so this means Zoom or the tasks keep failing; workflow-failed says whether releases end FAILED."
		}
		specs = append(specs, errs)
		throttles := alarmSpec{id + "Throttles", name + "-throttles", fn.MetricThrottles(sum), 1, 1,
			"The " + name + " function was throttled: the account's Lambda concurrency is exhausted."}
		if name == FunctionReleaseTasks {
			// The state machine retries Lambda's throttling of its tasks (up
			// to the overall deadline): during a burst of approvals on a
			// small account short throttling is expected; only throttling
			// that lasts is news.
			throttles.periods = 2
			throttles.description = "release-tasks stayed throttled for 10 minutes: the account's Lambda concurrency (shared by every function; no reservation) is exhausted, so the API may be refused too. Releases wait and are retried; raise the account's concurrency quota or lower releaseTasksConcurrency."
			if cfg.ReleaseTasksReservedConcurrency > 0 {
				throttles.description = "release-tasks stayed throttled for 10 minutes: its reserved concurrency (releaseTasksReservedConcurrency) is smaller than the invocations in flight. Releases wait and are retried; raise the reservation or remove it."
			}
		}
		specs = append(specs, throttles)
	}

	action := awscloudwatchactions.NewSnsAction(topic)
	alarms := map[string]awscloudwatch.Alarm{}
	var alarmList []interfacesawscloudwatch.IAlarmRef
	for _, s := range specs {
		a := awscloudwatch.NewAlarm(st, jsii.String(s.id+"Alarm"), &awscloudwatch.AlarmProps{
			AlarmName:          jsii.String(prefix + "-" + s.name),
			AlarmDescription:   jsii.String(s.description + " What to do: " + operationsDoc + ", alarm " + prefix + "-" + s.name + "."),
			Metric:             s.metric,
			Threshold:          jsii.Number(s.threshold),
			EvaluationPeriods:  jsii.Number(s.periods),
			DatapointsToAlarm:  jsii.Number(s.periods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		a.AddOkAction(action)
		alarms[s.id] = a
		alarmList = append(alarmList, a)
	}

	nr.Monitoring = Monitoring{Topic: topic, TopicKey: key, Alarms: alarms, Dashboard: nr.newDashboard(prefix, alarmList, sum)}
}

// releaseQueueAgeLimitSeconds is the age of the release queue's oldest
// message (seconds) that alarms: 15 minutes, past the Release state's wait
// (workflow.DefaultReleaseTimeoutSeconds) and two visibility timeouts
// (workflow.ReleaseQueueVisibilitySeconds) of a message release-batch
// failed once.
const releaseQueueAgeLimitSeconds = 15 * 60

// iteratorAgeLimitMs is the stream lag (IteratorAge, milliseconds) that
// alarms: one hour.
const iteratorAgeLimitMs = 60 * 60 * 1000

// iteratorAge is the age of the newest record a stream reader has processed
// (AWS/Lambda IteratorAge, milliseconds).
func iteratorAge(fn awslambda.Function, o *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return fn.Metric(jsii.String("IteratorAge"), o)
}

// newDashboard shows the alarms' states and the metrics behind them.
func (nr *NumberRelease) newDashboard(name string, alarms []interfacesawscloudwatch.IAlarmRef, sum *awscloudwatch.MetricOptions) awscloudwatch.Dashboard {
	sm, api, rq := nr.StateMachine, nr.API.DeploymentStage(), nr.Releases.Queue
	fiveMinutes := awscdk.Duration_Minutes(jsii.Number(5))
	p99 := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("p99")}
	graph := func(title string, left ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Left: &left, Width: jsii.Number(8), Height: jsii.Number(6),
		})
	}
	var errors, throttles, durations []awscloudwatch.IMetric
	for _, name := range FunctionNames() {
		fn := nr.Functions.ByName()[name]
		label := &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Sum"), Label: jsii.String(name)}
		errors = append(errors, fn.MetricErrors(label))
		throttles = append(throttles, fn.MetricThrottles(label))
		durations = append(durations, fn.MetricDuration(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("p99"), Label: jsii.String(name)}))
	}
	return awscloudwatch.NewDashboard(nr.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String(name),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
				Title: jsii.String("Alarms (" + operationsDoc + " says what each means)"), Alarms: &alarms, Width: jsii.Number(24),
			})},
			{
				graph("Release executions", sm.MetricStarted(sum), sm.MetricSucceeded(sum), sm.MetricFailed(sum), sm.MetricTimedOut(sum), sm.MetricThrottled(sum)),
				graph("API requests", api.MetricCount(sum), api.MetricClientError(sum), api.MetricServerError(sum)),
				graph("API latency p99 (ms)", api.MetricLatency(p99), api.MetricIntegrationLatency(p99)),
			},
			{
				graph("Function errors", errors...),
				graph("Function throttles", throttles...),
				graph("Function duration p99 (ms)", durations...),
			},
			{
				graph("Stream iterator age (ms, max)",
					iteratorAge(nr.Functions.Notify, &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String(FunctionNotify)}),
					iteratorAge(nr.Functions.StartRelease, &awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String(FunctionStartRelease)})),
				graph("Dead letters (visible)",
					nr.NotifyDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("NotifyFailures")}),
					nr.StartReleaseDLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("StartReleaseFailures")})),
				graph("Release workflow duration p99 (ms)", sm.MetricTime(p99)),
			},
			{
				graph("Release queue (messages, max)",
					rq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("waiting")}),
					rq.MetricApproximateNumberOfMessagesNotVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("in release-batch")}),
					nr.Releases.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("dead letters")})),
				graph("Release queue oldest message (s, max)",
					rq.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: fiveMinutes, Statistic: jsii.String("Maximum"), Label: jsii.String("oldest")})),
				graph("Releases sent and answered", rq.MetricNumberOfMessagesSent(sum), rq.MetricNumberOfMessagesDeleted(sum)),
			},
		},
	})
}
