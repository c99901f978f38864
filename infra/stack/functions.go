package stack

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"numberrelease/shared/config"
	"numberrelease/shared/pacing"
	tableschema "numberrelease/shared/table"
	"numberrelease/shared/workflow"
)

// The Lambda functions: each is functions/<name>/main.go in the repository
// and <BuildDir>/<name>/bootstrap once built.
const (
	FunctionAPI          = "api"
	FunctionWebhook      = "webhook"
	FunctionReleaseTasks = "release-tasks"
	FunctionReleaseBatch = "release-batch"
	FunctionNotify       = "notify"
	FunctionStartRelease = "start-release"
	FunctionReconcile    = "reconcile"
	// FunctionDeliverWebhooks delivers status changes to the providers'
	// webhooks (webhooks.go).
	FunctionDeliverWebhooks = "deliver-webhooks"
	// FunctionExpiry expires unanswered requests and sends the reminders
	// before (expiry.go).
	FunctionExpiry = "expiry"
)

// FunctionNames lists every function the stack deploys.
func FunctionNames() []string {
	return []string{FunctionAPI, FunctionWebhook, FunctionReleaseTasks, FunctionReleaseBatch, FunctionNotify, FunctionStartRelease, FunctionReconcile, FunctionDeliverWebhooks, FunctionExpiry}
}

// Functions are the stack's Lambda functions.
type Functions struct {
	// API serves the provider and customer REST API.
	API awslambda.Function
	// Webhook receives Zoom's webhook notifications.
	Webhook awslambda.Function
	// ReleaseTasks runs the state machine's steps.
	ReleaseTasks awslambda.Function
	// ReleaseBatch consumes the release queue: it removes numbers in Zoom in
	// batches and answers each execution's task token.
	ReleaseBatch awslambda.Function
	// Notify publishes history entries from the table stream to EventBridge.
	Notify awslambda.Function
	// StartRelease starts the workflow of each approval from the table stream.
	StartRelease awslambda.Function
	// Reconcile repairs numbers whose workflow is gone, on a schedule.
	Reconcile awslambda.Function
	// DeliverWebhooks delivers status changes to the providers' webhooks.
	DeliverWebhooks awslambda.Function
	// Expiry expires unanswered requests and reminds before, on a schedule.
	Expiry awslambda.Function
}

// ByName returns the functions keyed by their directory name.
func (f Functions) ByName() map[string]awslambda.Function {
	return map[string]awslambda.Function{
		FunctionAPI:             f.API,
		FunctionWebhook:         f.Webhook,
		FunctionReleaseTasks:    f.ReleaseTasks,
		FunctionReleaseBatch:    f.ReleaseBatch,
		FunctionNotify:          f.Notify,
		FunctionStartRelease:    f.StartRelease,
		FunctionReconcile:       f.Reconcile,
		FunctionDeliverWebhooks: f.DeliverWebhooks,
		FunctionExpiry:          f.Expiry,
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
		return fmt.Errorf("lambda bundles missing: %s; the CDK app (go run ./infra) builds them before it synthesizes, "+
			"`make build` builds them alone (infra/lambdabuild, every functions/<name>/main.go)",
			strings.Join(missing, ", "))
	}
	return nil
}

// functionOptions are the per-function settings of newGoFunction.
type functionOptions struct {
	timeout awscdk.Duration
	env     map[string]*string
	// reservedConcurrency, when above 0, reserves (and caps) the function's
	// concurrent executions (opt-in only: the account's quota must then be
	// at least 100 plus it).
	reservedConcurrency int
}

// newGoFunction declares one Go Lambda function from <BuildDir>/<name>, with
// its own log group and its own role. The role starts empty (no AWS managed
// policy): it may write only to the function's log group, plus X-Ray (added
// by the CDK for active tracing) and what the caller grants. env is added to
// LOG_LEVEL=info.
func newGoFunction(scope constructs.Construct, name string, cfg Config, o functionOptions) awslambda.Function {
	id := constructID(name) + "Function"
	logs := newLogGroup(scope, id+"Logs", nil, cfg)
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Number Release (" + cfg.Stage + "): the " + name + " function"),
	})
	logs.GrantWrite(role)
	vars := map[string]*string{"LOG_LEVEL": jsii.String("info")}
	for k, v := range o.env {
		vars[k] = v
	}
	props := &awslambda.FunctionProps{
		Description:  jsii.String("Number Release (" + cfg.Stage + "): " + name),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(), // LambdaGOARCH
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(cfg.buildDir(), name)), nil),
		MemorySize:   jsii.Number(256),
		Timeout:      o.timeout,
		Tracing:      awslambda.Tracing_ACTIVE,
		LogGroup:     logs,
		Role:         role,
		Environment:  &vars,
	}
	if o.reservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(o.reservedConcurrency)
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), props)
	// The role's policy (log group, X-Ray, grants) must exist before the
	// function first runs.
	fn.Node().AddDependency(role)
	return fn
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

// addFunctionsAndWorkflow declares the functions, the release queue and the
// state machine (they reference each other: the workflow invokes
// release-tasks and sends to the release queue, release-batch answers its
// task tokens, api starts the workflow) and grants each function exactly
// what it uses.
func (nr *NumberRelease) addFunctionsAndWorkflow(cfg Config) error {
	p := nr.Parameters
	table := nr.Table
	secret := nr.ZoomSecret
	seconds := func(s float64) awscdk.Duration { return awscdk.Duration_Seconds(jsii.Number(s)) }

	// release-tasks is the only caller of Zoom. Zoom's rate limits are per
	// Zoom account (all of a customer's apps share them), not per caller,
	// so a 500-number approval must not become 500 concurrent Zoom calls,
	// nor 500 invocations waiting for the rate limiter and eating the
	// account's concurrency. A lease semaphore in the table (shared/slots,
	// RELEASE_TASKS_CONCURRENCY slots) caps the invocations doing Zoom work;
	// the others answer Tasks.Busy at once, which the state machine retries
	// like Zoom's throttling (shared/workflow/release.asl.json).
	// shared/ratelimit paces the calls within the cap. No concurrency is
	// reserved unless the stage opts in (releaseTasksReservedConcurrency):
	// a reservation fails to deploy on an account whose quota is under
	// 100 plus the reservation.
	tasksEnv := nr.zoomEnv(cfg)
	for k, v := range map[string]*string{
		"RECHECK_SECONDS":           p.RecheckSeconds.ValueAsString(),
		"MAX_WAIT_SECONDS":          p.MaxWaitSeconds.ValueAsString(),
		"RETRY_BUDGET_SECONDS":      p.RetryBudgetSeconds.ValueAsString(),
		"RELEASE_TASKS_CONCURRENCY": jsii.String(strconv.Itoa(cfg.ReleaseTasksConcurrency)),
	} {
		tasksEnv[k] = v
	}
	tasks := newGoFunction(nr.Stack, FunctionReleaseTasks, cfg, functionOptions{
		timeout:             seconds(config.ReleaseTasksTimeout.Seconds()),
		env:                 tasksEnv,
		reservedConcurrency: cfg.ReleaseTasksReservedConcurrency,
	})
	grantTable(tasks, table, true)
	// The shared Zoom rate limiter (shared/ratelimit) counts calls per Zoom
	// account and second with UpdateItem ADD, the concurrency cap
	// (shared/slots) leases its slots with conditional UpdateItems, and a
	// check that finds every slot held takes its next turn from the
	// customer's start queue (shared/pacing), each on its own items only
	// (partition keys "RATE#<account>#<label>", "SLOT#release-tasks" and
	// "PACE#<customer>"). In customer mode it refreshes a customer's Zoom
	// tokens under the grant's lease (shared/zoomauth, "ZGRANT#<account>").
	tasks.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{rateLimitKeys, slotKeys, paceKeys, zoomGrantKeys}},
		},
	}))
	secret.GrantRead(tasks, nil)
	grantZoomTokens(tasks, nr.ZoomTokensKey)

	nr.Releases = newReleaseQueue(nr.Stack, cfg)
	sm, err := newStateMachine(nr.Stack, cfg, tasks, nr.Releases.Queue)
	if err != nil {
		return err
	}
	// The Release state sends each number, with its task token, to the
	// release queue (sqs:sendMessage.waitForTaskToken): SendMessage only.
	// The queue is encrypted with SQS's own keys, so no KMS grant.
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: &[]*string{nr.Releases.Queue.QueueArn()},
	}))
	// The definition invokes the unqualified function ARN only, so no
	// version or alias (GrantInvoke would add <arn>:*).
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &[]*string{tasks.FunctionArn()},
	}))
	// A long wait goes on in a successor execution (ContinueAsNew, so no
	// history nears Step Functions' 25,000 events), which release-tasks
	// starts. The grant is a policy of its own: in the function's default
	// policy it would make the function depend on the state machine, which
	// depends on the function.
	awsiam.NewPolicy(nr.Stack, jsii.String("ReleaseTasksContinueAsNew"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{tasks.Role()},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("states:StartExecution"),
			Resources: &[]*string{sm.StateMachineArn()},
		})},
	})

	batch := nr.newReleaseBatch(cfg, sm)

	// The API also connects customers' Zoom accounts ("Connect Zoom",
	// customer mode): it exchanges the authorization code and revokes
	// tokens with the Zoom app's credentials, learns the account id from
	// the Zoom API, sends the browser back to the customer app
	// (ZOOM_REDIRECT_URL, registered as the app's redirect URL) and seals
	// the tokens with the tokens key. The token issuer and the customer
	// app's URL come once the front door and the user pool exist
	// (addAPIAuthEnv).
	api := newGoFunction(nr.Stack, FunctionAPI, cfg, functionOptions{timeout: seconds(config.APITimeout.Seconds()), env: map[string]*string{
		"TABLE_NAME":          table.TableName(),
		"STATE_MACHINE_ARN":   sm.StateMachineArn(),
		"TENANT_RATE_LIMIT":   jsii.String(strconv.Itoa(cfg.TenantRateLimit)),
		"TENANT_BURST":        jsii.String(strconv.Itoa(cfg.TenantBurst)),
		"RELEASE_MODE":        jsii.String(cfg.ReleaseMode),
		"ZOOM_SECRET_ARN":     secret.SecretArn(),
		"ZOOM_API_BASE":       p.ZoomAPIBase.ValueAsString(),
		"ZOOM_OAUTH_URL":      p.ZoomOAuthURL.ValueAsString(),
		"ZOOM_TOKENS_KEY_ARN": nr.ZoomTokensKey.KeyArn(),
	}})
	grantTable(api, table, true)
	// Approvals are started by start-release from the stream; the API
	// starts an execution only when a customer approves a RELEASING number
	// again (idempotent by name: it makes sure the execution exists).
	sm.GrantStartExecution(api)
	// Approving a number that waits for the unassign wakes the waiting
	// task, and so does connecting Zoom for the releases that waited for
	// the connection.
	sm.Grant(api, jsii.String("states:SendTaskSuccess"))
	// The Zoom app's credentials: the value only (GrantRead would add
	// DescribeSecret, which the API does not call).
	api.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: &[]*string{secret.SecretArn()},
	}))
	grantZoomTokens(api, nr.ZoomTokensKey)
	grantWebhookSecrets(api, nr)
	// Connect Zoom (shared/zoomauth): the grant's conditional updates, the
	// customer's learned Zoom account (an Update of its item and the move
	// of its lookup item, in one transaction), and the single-use states,
	// taken by deleting them; an operator's unlink of a provider; and a
	// provider's removal of its webhook (shared/webhooks).
	api.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{zoomGrantKeys, customerKeys}},
		},
	}))
	api.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:DeleteItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{oauthStateKeys, zoomAccountKeys, providerLinkKeys, webhookKeys}},
		},
	}))

	webhook := newGoFunction(nr.Stack, FunctionWebhook, cfg, functionOptions{timeout: seconds(config.APITimeout.Seconds()), env: map[string]*string{
		"TABLE_NAME":              table.TableName(),
		"ZOOM_WEBHOOK_SECRET_ARN": secret.SecretArn(),
	}})
	grantTable(webhook, table, false)
	// Zoom's app_deauthorized event marks the Zoom account's authorization
	// not connected: an update of its grant item only ("ZGRANT#<account>").
	webhook.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{zoomGrantKeys}},
		},
	}))
	secret.GrantRead(webhook, nil)
	// An unassign notification wakes the waiting task (a hint: it re-checks).
	sm.Grant(webhook, jsii.String("states:SendTaskSuccess"))

	notify := newGoFunction(nr.Stack, FunctionNotify, cfg, functionOptions{timeout: seconds(30), env: map[string]*string{
		"EVENT_BUS_NAME": nr.Bus.EventBusName(),
	}})
	nr.NotifyDLQ = newNotifyDLQ(nr.Stack, cfg)
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

	// start-release starts the workflow of every approval: the approval's
	// history item (RELEASING from PENDING_APPROVAL or FAILED) is on the
	// stream because it was written in the approval's own transaction, so
	// an approval that was recorded is always started, however the API call
	// ended. Its own event source mapping (and iterator): publishing
	// trouble never holds up starts, nor the other way round.
	// It paces each customer's starts (shared/pacing) with a queue item per
	// customer, UpdateItem on its own keys only ("PACE#<customer>").
	start := newGoFunction(nr.Stack, FunctionStartRelease, cfg, functionOptions{timeout: seconds(60), env: map[string]*string{
		"STATE_MACHINE_ARN": sm.StateMachineArn(),
		"TABLE_NAME":        table.TableName(),
		"ZOOM_RATE_LIMITS":  jsii.String(cfg.ZoomRateLimits),
		"ZOOM_RATE_SHARE":   jsii.String(strconv.Itoa(cfg.ZoomRateShare)),
	}})
	start.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{paceKeys}},
		},
	}))
	nr.StartReleaseDLQ = newDeadLetterQueue(nr.Stack, "StartReleaseFailures", cfg)
	start.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_LATEST,
		BatchSize:               jsii.Number(100),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(10),
		BisectBatchOnError:      jsii.Bool(true),
		OnFailure:               awslambdaeventsources.NewSqsDlq(nr.StartReleaseDLQ),
		Filters:                 &[]*map[string]any{approvalFilter()},
	}))
	sm.GrantStartExecution(start)

	reconcile := nr.newReconciler(cfg, sm)
	deliver := nr.newWebhookDelivery(cfg)
	expire := nr.newExpiry(cfg)

	nr.StateMachine = sm
	nr.Functions = Functions{API: api, Webhook: webhook, ReleaseTasks: tasks, ReleaseBatch: batch, Notify: notify, StartRelease: start, Reconcile: reconcile,
		DeliverWebhooks: deliver, Expiry: expire}
	return nil
}

// addAPIAuthEnv gives the api function its token issuer and the customer
// app's URL: COGNITO_ISSUER and COGNITO_CLIENT_ID (the stack's user pool
// and the pages' client: access tokens carry client_id, not aud), or
// JWT_ISSUER, JWKS_URL and JWT_AUDIENCE (the stage's external issuer, flat
// claims); and ZOOM_REDIRECT_URL, the customer app, which Zoom sends the
// customer's admin back to after "Connect Zoom".
func (nr *NumberRelease) addAPIAuthEnv(cfg Config) {
	env := map[string]*string{"ZOOM_REDIRECT_URL": nr.FrontDoor.AppURL}
	if cfg.Identity.External() {
		env["JWT_ISSUER"] = jsii.String(cfg.Identity.Issuer)
		env["JWKS_URL"] = jsii.String(cfg.Identity.JWKSURL)
		env["JWT_AUDIENCE"] = jsii.String(cfg.Identity.Audience)
	} else {
		env["COGNITO_ISSUER"] = nr.SignIn.Issuer()
		env["COGNITO_CLIENT_ID"] = nr.SignIn.Client.UserPoolClientId()
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		nr.Functions.API.AddEnvironment(jsii.String(k), env[k], nil)
	}
}

// newReleaseBatch declares release-batch and its event source mapping on
// the release queue. Lambda's poller hands it up to
// workflow.ReleaseBatchSize messages gathered for up to
// workflow.ReleaseBatchWindowSeconds, in at most
// workflow.ReleaseBatchMaxConcurrency invocations at once (the local
// harness polls with the same values). It removes the numbers in Zoom in
// batches, records their status in the table and answers each message's
// task token (SendTaskSuccess, or SendTaskFailure with the error the
// Release state handles); a message it reports as failed
// (ReportBatchItemFailures) is received again after the visibility timeout,
// and after releaseQueueMaxReceiveCount receives goes to the dead-letter
// queue, while its execution sends the number again once its wait times
// out. Like release-tasks it calls Zoom, with the same settings and the
// same shared rate limiter (UpdateItem on the "RATE#<account>#<label>"
// items only).
func (nr *NumberRelease) newReleaseBatch(cfg Config, sm awsstepfunctions.StateMachine) awslambda.Function {
	table, secret := nr.Table, nr.ZoomSecret
	env := nr.zoomEnv(cfg)
	env["RELEASE_QUEUE_URL"] = nr.Releases.Queue.QueueUrl()
	fn := newGoFunction(nr.Stack, FunctionReleaseBatch, cfg, functionOptions{
		timeout: awscdk.Duration_Seconds(jsii.Number(workflow.ReleaseBatchTimeoutSeconds)),
		env:     env,
	})
	grantTable(fn, table, true)
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:UpdateItem"),
		Resources: &[]*string{table.TableArn()},
		Conditions: &map[string]any{
			"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": []string{rateLimitKeys, zoomGrantKeys}},
		},
	}))
	secret.GrantRead(fn, nil)
	grantZoomTokens(fn, nr.ZoomTokensKey)
	sm.Grant(fn, jsii.String("states:SendTaskSuccess"), jsii.String("states:SendTaskFailure"))
	// The event source grants the function what Lambda's poller does with
	// its role on this queue only (ReceiveMessage, DeleteMessage,
	// ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl).
	fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(nr.Releases.Queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(workflow.ReleaseBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(workflow.ReleaseBatchWindowSeconds)),
		MaxConcurrency:          jsii.Number(workflow.ReleaseBatchMaxConcurrency),
		ReportBatchItemFailures: jsii.Bool(true),
	}))
	return fn
}

// rateLimitKeys are the partition keys of shared/ratelimit's counters,
// slotKeys those of shared/slots' semaphores, paceKeys those of
// shared/pacing's queues.
const (
	rateLimitKeys = "RATE#*"
	slotKeys      = "SLOT#*"
	paceKeys      = pacing.KeyPrefix + "*"
	// The customers' Zoom authorizations (shared/zoomauth), Connect Zoom's
	// single-use states, and the customer items Connect Zoom updates
	// (shared/store: the customer and its Zoom account lookup).
	zoomGrantKeys   = "ZGRANT#*"
	oauthStateKeys  = "OAUTHSTATE#*"
	customerKeys    = "CUST#*"
	zoomAccountKeys = "ZACCT#*"
	// providerLinkKeys are the provider → customer links, which an
	// operator's unlink deletes (shared/store).
	providerLinkKeys = "PROV#*"
)

// grantTable lets fn make the DynamoDB calls of shared/store, and no other:
// GetItem, BatchGetItem and Query on the table, Query on each of its
// indexes (named, not index/*), and with write, PutItem (the store writes
// only Puts, alone or inside TransactWriteItems, whose Puts IAM authorizes
// as PutItem). No Scan, UpdateItem, DeleteItem or BatchWriteItem (only the
// local runner seeds tenants in batches; the Zoom rate limiter of
// release-tasks and release-batch, release-tasks' concurrency cap and the
// start queues get UpdateItem on their own keys separately; the expiry
// function gets Scan on the table for the one-time backfill of the pending
// keys, newExpiry). A store change that calls
// something else must be granted here: the emulator does not enforce IAM.
func grantTable(fn awslambda.Function, table awsdynamodb.TableV2, write bool) {
	actions := []string{"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"}
	if write {
		actions = append(actions, "dynamodb:PutItem")
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &[]*string{table.TableArn()},
	}))
	var indexes []*string
	for _, ix := range tableschema.TableSchema().Indexes {
		indexes = append(indexes, jsii.String(*table.TableArn()+"/index/"+ix.Name))
	}
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:Query"),
		Resources: &indexes,
	}))
}

// zoomEnv is the environment of both functions that call Zoom
// (release-tasks, release-batch): the table, the Zoom app and API, the key
// of the customers' stored Zoom tokens, the release mode and the share of
// the customers' rate limits. Carrier mode
// works with the carrier's own Zoom account (the account of the app whose
// credentials the Zoom secret holds), never the customer's.
func (nr *NumberRelease) zoomEnv(cfg Config) map[string]*string {
	p := nr.Parameters
	env := map[string]*string{
		"TABLE_NAME":       nr.Table.TableName(),
		"ZOOM_SECRET_ARN":  nr.ZoomSecret.SecretArn(),
		"ZOOM_API_BASE":    p.ZoomAPIBase.ValueAsString(),
		"ZOOM_OAUTH_URL":   p.ZoomOAuthURL.ValueAsString(),
		"RELEASE_MODE":     jsii.String(cfg.ReleaseMode),
		"CARRIER_CODE":     jsii.String(strconv.Itoa(cfg.CarrierCode)),
		"ZOOM_RATE_LIMITS": jsii.String(cfg.ZoomRateLimits),
		"ZOOM_RATE_SHARE":  jsii.String(strconv.Itoa(cfg.ZoomRateShare)),
		// The stored tokens' key (grantZoomTokens, by each caller).
		"ZOOM_TOKENS_KEY_ARN": nr.ZoomTokensKey.KeyArn(),
	}
	if cfg.CarrierAccountID != "" {
		env["ZOOM_CARRIER_ACCOUNT_ID"] = jsii.String(cfg.CarrierAccountID)
	}
	return env
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

// approvalFilter passes only approvals to start-release: history inserts
// (SK "H#...") that move a number to RELEASING from PENDING_APPROVAL or
// FAILED (shared/starter.Approval, which the function checks again).
func approvalFilter() *map[string]any {
	return awslambda.FilterCriteria_Filter(&map[string]any{
		"eventName": awslambda.FilterRule_IsEqual(jsii.String("INSERT")),
		"dynamodb": map[string]any{
			"Keys": map[string]any{
				"SK": map[string]any{"S": awslambda.FilterRule_BeginsWith(jsii.String("H#"))},
			},
			"NewImage": map[string]any{
				"to":   map[string]any{"S": awslambda.FilterRule_IsEqual(jsii.String("RELEASING"))},
				"from": map[string]any{"S": awslambda.FilterRule_Or(jsii.String("PENDING_APPROVAL"), jsii.String("FAILED"))},
			},
		},
	})
}
