package stack

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The Lambda functions: each is functions/<name>/main.go in the repository
// and <BuildDir>/<name>/bootstrap once built.
const (
	FunctionAPI          = "api"
	FunctionWebhook      = "webhook"
	FunctionReleaseTasks = "release-tasks"
	FunctionNotify       = "notify"
)

// FunctionNames lists every function the stack deploys.
func FunctionNames() []string {
	return []string{FunctionAPI, FunctionWebhook, FunctionReleaseTasks, FunctionNotify}
}

// Functions are the stack's Lambda functions.
type Functions struct {
	// API serves the provider and customer REST API.
	API awslambda.Function
	// Webhook receives Zoom's webhook notifications.
	Webhook awslambda.Function
	// ReleaseTasks runs the state machine's steps.
	ReleaseTasks awslambda.Function
	// Notify publishes history entries from the table stream to EventBridge.
	Notify awslambda.Function
}

// ByName returns the functions keyed by their directory name.
func (f Functions) ByName() map[string]awslambda.Function {
	return map[string]awslambda.Function{
		FunctionAPI:          f.API,
		FunctionWebhook:      f.Webhook,
		FunctionReleaseTasks: f.ReleaseTasks,
		FunctionNotify:       f.Notify,
	}
}

// checkBundles names every function whose bootstrap is missing from dir.
func checkBundles(dir string) error {
	var missing []string
	for _, name := range FunctionNames() {
		p := filepath.Join(dir, name, "bootstrap")
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
		case err == nil || os.IsNotExist(err):
			missing = append(missing, p)
		default:
			return fmt.Errorf("lambda bundle %s: %w", p, err)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lambda bundles missing: %s; run `make build` first (it builds every functions/<name>/main.go), "+
			"or point the app at other bundles with -c buildDir=DIR (make synth BUILD_DIR=DIR)",
			strings.Join(missing, ", "))
	}
	return nil
}

// newGoFunction declares one Go Lambda function from <BuildDir>/<name>, with
// its own log group. env is added to LOG_LEVEL=info.
func newGoFunction(scope constructs.Construct, name string, cfg Config, timeout awscdk.Duration, env map[string]*string) awslambda.Function {
	id := constructID(name) + "Function"
	retention := awslogs.RetentionDays_ONE_MONTH
	if cfg.Production {
		retention = awslogs.RetentionDays_THREE_MONTHS
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		Retention:     retention,
		RemovalPolicy: removalPolicy(cfg),
	})
	vars := map[string]*string{"LOG_LEVEL": jsii.String("info")}
	for k, v := range env {
		vars[k] = v
	}
	return awslambda.NewFunction(scope, jsii.String(id), &awslambda.FunctionProps{
		Description:  jsii.String("Number Release (" + cfg.Stage + "): " + name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.buildDir(), name)), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      timeout,
		Tracing:      awslambda.Tracing_ACTIVE,
		LogGroup:     logs,
		Environment:  &vars,
	})
}

// constructID turns a function name into a construct id: release-tasks →
// ReleaseTasks (the function is ReleaseTasksFunction).
func constructID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// addFunctionsAndWorkflow declares the functions and the state machine (they
// reference each other: the workflow invokes release-tasks, api starts the
// workflow) and grants each function exactly what it uses.
func (nr *NumberRelease) addFunctionsAndWorkflow(cfg Config) error {
	p := nr.Parameters
	table := nr.Table
	secret := nr.ZoomSecret
	seconds := func(s float64) awscdk.Duration { return awscdk.Duration_Seconds(jsii.Number(s)) }

	tasks := newGoFunction(nr.Stack, FunctionReleaseTasks, cfg, seconds(30), map[string]*string{
		"TABLE_NAME":       table.TableName(),
		"ZOOM_SECRET_ARN":  secret.SecretArn(),
		"ZOOM_API_BASE":    p.ZoomAPIBase.ValueAsString(),
		"ZOOM_OAUTH_URL":   p.ZoomOAuthURL.ValueAsString(),
		"RECHECK_SECONDS":  p.RecheckSeconds.ValueAsString(),
		"MAX_WAIT_SECONDS": p.MaxWaitSeconds.ValueAsString(),
	})
	table.GrantReadWriteData(tasks)
	secret.GrantRead(tasks, nil)

	sm, err := newStateMachine(nr.Stack, cfg, tasks)
	if err != nil {
		return err
	}
	tasks.GrantInvoke(sm)

	api := newGoFunction(nr.Stack, FunctionAPI, cfg, seconds(15), map[string]*string{
		"TABLE_NAME":        table.TableName(),
		"STATE_MACHINE_ARN": sm.StateMachineArn(),
		"JWKS_URL":          p.JwksURL.ValueAsString(),
		"JWT_ISSUER":        p.JwtIssuer.ValueAsString(),
		"JWT_AUDIENCE":      p.JwtAudience.ValueAsString(),
	})
	table.GrantReadWriteData(api)
	sm.GrantStartExecution(api)
	// Approving a number that waits for the unassign wakes the waiting task.
	sm.Grant(api, jsii.String("states:SendTaskSuccess"))

	webhook := newGoFunction(nr.Stack, FunctionWebhook, cfg, seconds(15), map[string]*string{
		"TABLE_NAME":              table.TableName(),
		"ZOOM_WEBHOOK_SECRET_ARN": secret.SecretArn(),
	})
	table.GrantReadData(webhook)
	secret.GrantRead(webhook, nil)
	// An unassign notification wakes the waiting task (a hint: it re-checks).
	sm.Grant(webhook, jsii.String("states:SendTaskSuccess"))

	notify := newGoFunction(nr.Stack, FunctionNotify, cfg, seconds(30), map[string]*string{
		"EVENT_BUS_NAME": nr.Bus.EventBusName(),
	})
	nr.NotifyDLQ = newNotifyDLQ(nr.Stack)
	notify.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_LATEST,
		BatchSize:               jsii.Number(100),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(5),
		BisectBatchOnError:      jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(nr.NotifyDLQ),
		Filters:                 &[]*map[string]any{historyInsertFilter()},
	}))
	nr.Bus.GrantPutEventsTo(notify, nil)

	nr.StateMachine = sm
	nr.Functions = Functions{API: api, Webhook: webhook, ReleaseTasks: tasks, Notify: notify}
	return nil
}

// historyInsertFilter passes only new history items (SK "H#...") to notify:
// each is one status change, written once and never updated.
func historyInsertFilter() *map[string]any {
	return awslambda.FilterCriteria_Filter(&map[string]any{
		"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
		"dynamodb": map[string]any{
			"Keys": map[string]any{
				"SK": map[string]any{"S": awslambda.FilterRule_BeginsWith(jsii.String("H#"))},
			},
		},
	})
}
