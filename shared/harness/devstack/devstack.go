// Package devstack assembles the whole system on one machine, without AWS or
// Docker: moto (DynamoDB, Step Functions, EventBridge) with real state
// machine executions, the project's Lambda handlers answering moto's Invoke
// calls (lambdafront), one HTTP server mapping the API's routes to the same
// handlers API Gateway would call, a local token issuer, and the Zoom
// simulator. `make run` and the end-to-end tests both use it.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"numberrelease/shared/config"
	"numberrelease/shared/domain"
	"numberrelease/shared/expiry"
	"numberrelease/shared/harness/emulator"
	"numberrelease/shared/harness/lambdafront"
	"numberrelease/shared/harness/localauth"
	"numberrelease/shared/harness/managedlogin"
	"numberrelease/shared/harness/outbox"
	"numberrelease/shared/harness/sqspoll"
	"numberrelease/shared/harness/streampoll"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/notify"
	"numberrelease/shared/pacing"
	"numberrelease/shared/reconcile"
	"numberrelease/shared/starter"
	"numberrelease/shared/store"
	"numberrelease/shared/table"
	"numberrelease/shared/tasks"
	"numberrelease/shared/webhooks"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
)

// Config is the local system's settings.
type Config struct {
	// Addr is where the HTTP server listens ("127.0.0.1:8080": loopback
	// only; "127.0.0.1:0" for a free port).
	Addr string
	// Recheck is the WaitForUnassign timeout (10 s locally).
	Recheck time.Duration
	// MaxWait is the overall wait deadline.
	MaxWait time.Duration
	// ZoomRetryIntervalSeconds and ZoomRetryMaxAttempts shape the state
	// machine's Zoom retries.
	ZoomRetryIntervalSeconds, ZoomRetryMaxAttempts int
	// ZoomThrottleMaxAttempts and ZoomThrottleMaxDelaySeconds shape the
	// state machine's retries of Zoom throttling (workflow.Params).
	ZoomThrottleMaxAttempts, ZoomThrottleMaxDelaySeconds int
	// RetryBudget and RetryPause shape the long retries after a state's own
	// (tasks.Config).
	RetryBudget, RetryPause time.Duration
	// Stage names the cdk.json stage whose settings the local system shares
	// with the deployed one (config.StageConfig): release-tasks'
	// concurrency cap (its lease semaphore, the same code as on AWS) and the
	// account's concurrency quota, which the Lambda front enforces on every
	// invocation as Lambda does; "" for neither.
	Stage string
	// ReconcileEvery is how often the reconciler runs (0: never), and
	// ReconcileGrace how long a number may go unchanged before it checks
	// it (shared/reconcile).
	ReconcileEvery, ReconcileGrace time.Duration
	// ExpiryEvery is how often the expiry sweep runs (0: never);
	// ExpiryTTL is how long a number may stay PENDING_APPROVAL, and
	// ExpiryReminders how long before its expiry each reminder goes out
	// (shared/expiry). Emails go to Stack.Outbox.
	ExpiryEvery, ExpiryTTL time.Duration
	ExpiryReminders        []time.Duration
	// ZoomLimits are the per-second limits the Zoom simulator enforces on
	// every account and the client's pacing (the DynamoDB limiter) keeps
	// to; Zoom's Pro limits by default.
	ZoomLimits zoom.Limits
	// ZoomShare is the per cent of ZoomLimits the service uses (its
	// limiter and start queues pace to ZoomBudget); the simulator enforces
	// the whole of ZoomLimits, as Zoom would for all of an account's apps.
	ZoomShare int
	// ReleaseMode and CarrierCode choose how the release removes a number
	// on the Zoom side (tasks.Config); customer by default.
	ReleaseMode domain.ReleaseMode
	CarrierCode int
	// CarrierAccountID is the carrier's own Zoom account in carrier mode
	// (tasks.Config): the simulator makes it the carrier's account
	// (zoomsim.Sim.AddCarrier), and the tasks check and remove numbers with
	// its tokens. Default DefaultCarrierAccount.
	CarrierAccountID string
	// WebhookSecret signs and verifies Zoom notifications.
	WebhookSecret string
	// WebhookBackoff is the retry schedule of webhook deliveries
	// (LocalWebhookBackoff when zero); the queue's maxReceiveCount follows
	// its MaxAttempts.
	WebhookBackoff webhooks.Backoff
	// WebhooksProduction turns off local mode for webhook URLs: without it
	// (the local default) http://localhost and http://127.0.0.1 receivers
	// are allowed; with it only what AWS allows (https, port 443, public
	// addresses). WebhookResolver, when set, resolves the receivers' names.
	WebhooksProduction bool
	WebhookResolver    webhooks.Resolver
	// Demo seeds the demo data (package demo).
	Demo bool
	Log  *slog.Logger
	// AWSCalls, when set, counts the AWS calls of every SDK client wired
	// here (the store's and the rate limiter's DynamoDB, Stack.SFN,
	// Stack.Events and the stream poller) and the invocations of the
	// release-tasks function by Step Functions. Clients made from
	// Stack.AWSConfig are not counted.
	AWSCalls *CallCounter
	// Faults, when set, injects failures at the crash points between an
	// approval's write and its running execution (end-to-end tests).
	Faults *Faults
}

// Faults wrap the clients of the parts that record an approval and start
// its workflow, so a test can lose an answer or fail a call on purpose.
// Nil fields leave that client alone.
type Faults struct {
	// APIStore wraps the DynamoDB client of the API's store.
	APIStore func(store.DB) store.DB
	// StarterSFN wraps the Step Functions client of the workflow starter.
	StarterSFN func(workflow.SFN) workflow.SFN
}

// ZoomBudget is the part of the Zoom limits the service paces to:
// ZoomShare per cent of ZoomLimits (config.DefaultZoomRateShare when unset).
func (c Config) ZoomBudget() zoom.Limits {
	share := c.ZoomShare
	if share <= 0 {
		share = config.DefaultZoomRateShare
	}
	return c.ZoomLimits.OrPro().Share(share)
}

// Defaults are the local system's settings. Throttling is retried with delays
// capped at 20 s (not production's 60 s) so that a large approval's tail
// is short locally; with that cap the retry model
// (shared/workflow/retrymodel_test.go) needs at most 19 retries of a step
// for 500 numbers at Pro limits, so 40 leave room.
func Defaults() Config {
	return Config{
		Addr: "127.0.0.1:8080", Recheck: 10 * time.Second, MaxWait: time.Hour,
		ZoomRetryIntervalSeconds: 1, ZoomRetryMaxAttempts: 3,
		ZoomThrottleMaxAttempts: 40, ZoomThrottleMaxDelaySeconds: 20,
		RetryBudget: tasks.DefaultRetryBudget, RetryPause: 10 * time.Second,
		ReconcileEvery: 15 * time.Second, ReconcileGrace: time.Minute,
		ExpiryEvery: 15 * time.Second, ExpiryTTL: expiry.DefaultTTL, ExpiryReminders: expiry.DefaultReminders,
		Stage:         "dev",
		ZoomLimits:    zoom.ProLimits(),
		ZoomShare:     config.DefaultZoomRateShare,
		ReleaseMode:   domain.ModeCustomer,
		WebhookSecret: "local-webhook-secret", Demo: true,
		Log: slog.Default(),
	}
}

// Local Zoom app credentials of the simulator (not secrets: local only).
const (
	simClientID     = "local-zoom-client"
	simClientSecret = "local-zoom-client-secret"
	// TableName is the emulator's table.
	TableName = "number-release"
	// EventBus carries the status-change events (shared/notify).
	EventBus = "number-release-local"
	// EventArchive keeps every event of EventBus for replay, and EventLog
	// receives each through the catch-all rule, as on AWS (infra/stack).
	EventArchive = "number-release-local"
	EventLog     = "/aws/events/number-release-local"
	// eventArchiveDays is cdk.json's local eventArchiveDays (moto keeps
	// events regardless).
	eventArchiveDays = 1
	tasksFunction    = "release-tasks"
	account          = "123456789012"
)

// Stack is the running local system.
type Stack struct {
	// URL is the HTTP server's base URL, e.g. http://localhost:8080.
	URL    string
	Store  *store.Store
	Sim    *zoomsim.Sim
	Issuer *localauth.Issuer
	// IDP is the emulator's Cognito, and Pool the pages' user pool on it
	// (with the demo users when Config.Demo is set).
	IDP             *cip.Client
	Pool            managedlogin.Pool
	StateMachineARN string
	SFN             *sfn.Client
	// Events is an EventBridge client for the emulator (EventBus).
	Events *eventbridge.Client
	// ReleaseTasksConcurrency is the cap on release-tasks invocations doing
	// Zoom work at once (the stage's releaseTasksConcurrency, enforced by
	// shared/slots), and AccountConcurrency the cap on all invocations the
	// Lambda front runs at once (the stage's accountConcurrencyQuota); 0:
	// none.
	ReleaseTasksConcurrency, AccountConcurrency int
	// Outbox keeps every email the system sends (GET /local/outbox).
	Outbox *outbox.Outbox

	moto    *emulator.Server
	front   *lambdafront.Front
	servers []*http.Server
	cancel  context.CancelFunc
	// background counts the goroutines standing in for AWS triggers (the
	// stream pollers, the reconciler's schedule) until cancel stops them.
	background sync.WaitGroup
	log        *slog.Logger
	streamARN  string

	// ddb is the emulator's DynamoDB (the Zoom rate limiter's table).
	ddb *dynamodb.Client
	// pacer is the customers' start queues (shared/pacing).
	pacer *pacing.Pacer
	// carrierCode is carrier mode's code: the demo numbers are its peering
	// numbers (0 in customer mode).
	carrierCode int
	// releaseQueue is the queue the Release state hands numbers to.
	// mode is the release mode the tasks run in.
	mode domain.ReleaseMode
	// login is the stand-in for the pool's managed login.
	login *managedlogin.Server
	// kms seals the customers' Zoom tokens with tokensKey.
	kms          *kms.Client
	tokensKey    string
	releaseQueue struct {
		url, arn string
		client   *sqs.Client
	}
	// webhookQueue is the webhook delivery queue, and webhooks the
	// provider's webhook API.
	webhookQueue struct {
		url    string
		client *sqs.Client
	}
	webhooks *webhooks.Service
}

// Start brings the system up; Close takes it down.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	log := cfg.Log
	s := &Stack{log: log, Outbox: &outbox.Outbox{}}
	defer func() {
		if err != nil {
			_ = s.Close()
		}
	}()
	public, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.URL = "http://localhost:" + strconv.Itoa(public.Addr().(*net.TCPAddr).Port)
	frontLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = public.Close()
		return nil, fmt.Errorf("listen for the lambda front: %w", err)
	}
	frontPort := frontLn.Addr().(*net.TCPAddr).Port

	s.moto, err = emulator.Start(ctx, emulator.Options{ExecuteStateMachines: true, MotoPort: frontPort})
	if err != nil {
		_ = public.Close()
		_ = frontLn.Close()
		return nil, fmt.Errorf("start the AWS emulator: %w", err)
	}
	if s.front, err = lambdafront.New(s.moto.Endpoint(), log); err != nil {
		return nil, err
	}
	if err := s.capConcurrency(cfg.Stage); err != nil {
		return nil, err
	}
	s.serve(frontLn, s.front)

	awsCfg := s.moto.AWSConfig()
	if cfg.AWSCalls != nil {
		awsCfg.APIOptions = append(awsCfg.APIOptions, cfg.AWSCalls.AddMiddleware)
	}
	ddb := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	s.ddb = ddb
	created, err := ddb.CreateTable(ctx, table.TableSchema().CreateTableInput(TableName))
	if err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	s.streamARN = aws.ToString(created.TableDescription.LatestStreamArn)
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.startNotifications(bg, awsCfg); err != nil {
		return nil, err
	}
	s.SFN = sfn.NewFromConfig(awsCfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	if err := s.createReleaseQueue(ctx, awsCfg); err != nil {
		return nil, err
	}
	if err := s.createTokensKey(ctx, awsCfg); err != nil {
		return nil, err
	}
	def, err := workflow.Render(workflow.Params{
		TasksFunctionARN:            "arn:aws:lambda:" + awsCfg.Region + ":" + account + ":function:" + tasksFunction,
		ReleaseQueueURL:             s.releaseQueue.url,
		ReleaseTimeoutSeconds:       workflow.DefaultReleaseTimeoutSeconds,
		ZoomRetryIntervalSeconds:    cfg.ZoomRetryIntervalSeconds,
		ZoomRetryMaxAttempts:        cfg.ZoomRetryMaxAttempts,
		ZoomThrottleMaxAttempts:     cfg.ZoomThrottleMaxAttempts,
		ZoomThrottleMaxDelaySeconds: cfg.ZoomThrottleMaxDelaySeconds,
	})
	if err != nil {
		return nil, err
	}
	sm, err := s.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String("number-release"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/number-release-states"),
	})
	if err != nil {
		return nil, fmt.Errorf("create state machine: %w", err)
	}
	s.StateMachineARN = aws.ToString(sm.StateMachineArn)
	s.Store = store.New(ddb, TableName)
	if s.webhooks, err = s.startWebhooks(ctx, bg, awsCfg, cfg); err != nil {
		return nil, err
	}

	handler, err := s.wire(ctx, bg, cfg)
	if err != nil {
		return nil, err
	}
	s.startWorkflowStarter(bg, awsCfg, cfg.Faults)
	s.startReconciler(bg, cfg)
	if err := s.startExpiry(bg, cfg); err != nil {
		return nil, err
	}
	s.serve(public, handler)
	if cfg.Demo {
		if err := s.seedDemo(ctx); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}
	return s, nil
}

// capConcurrency reads the stage's caps: the Lambda front refuses
// invocations over the account's quota, as Lambda does (429
// TooManyRequestsException, which the state machine retries), and
// release-tasks gets its concurrency cap (wire).
func (s *Stack) capConcurrency(name string) error {
	if name == "" {
		return nil
	}
	path, err := config.FindCDKFile()
	if err != nil {
		return fmt.Errorf("stage %s: %w", name, err)
	}
	st, err := config.LoadStageFile(path, name)
	if err != nil {
		return err
	}
	s.ReleaseTasksConcurrency, s.AccountConcurrency = st.ReleaseTasksConcurrency, st.AccountConcurrencyQuota
	return s.front.SetAccountConcurrency(st.AccountConcurrencyQuota)
}

// startNotifications publishes status changes on the local bus, reading the
// table's stream as Lambda's event source mapping does on AWS.
func (s *Stack) startNotifications(ctx context.Context, awsCfg aws.Config) error {
	s.Events = eventbridge.NewFromConfig(awsCfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	bus, err := s.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(EventBus)})
	if err != nil {
		return fmt.Errorf("create event bus: %w", err)
	}
	if err := s.routeEvents(ctx, awsCfg, aws.ToString(bus.EventBusArn)); err != nil {
		return err
	}
	publisher := &notify.Publisher{Client: s.Events, BusName: EventBus, Log: s.log}
	s.pollStream(ctx, awsCfg, "notify", publisher.HandleStream)
	return nil
}

// routeEvents gives the local bus what the stack gives the deployed one
// (infra/stack routeEvents): an archive of every event and the catch-all
// rule into the event log. Carriers' rules are not created: the emulator
// has no carrier accounts (docs/EMULATOR.md).
func (s *Stack) routeEvents(ctx context.Context, awsCfg aws.Config, busARN string) error {
	pattern, err := json.Marshal(notify.Pattern())
	if err != nil {
		return fmt.Errorf("event pattern: %w", err)
	}
	source, err := json.Marshal(map[string]any{"source": []string{notify.Source}})
	if err != nil {
		return fmt.Errorf("archive pattern: %w", err)
	}
	if _, err := s.Events.CreateArchive(ctx, &eventbridge.CreateArchiveInput{
		ArchiveName: aws.String(EventArchive), EventSourceArn: aws.String(busARN),
		EventPattern: aws.String(string(source)), RetentionDays: aws.Int32(eventArchiveDays),
	}); err != nil {
		return fmt.Errorf("create event archive: %w", err)
	}
	logs := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(EventLog)}); err != nil {
		return fmt.Errorf("create event log: %w", err)
	}
	const rule = "event-log"
	if _, err := s.Events.PutRule(ctx, &eventbridge.PutRuleInput{
		Name: aws.String(rule), EventBusName: aws.String(EventBus), EventPattern: aws.String(string(pattern)),
	}); err != nil {
		return fmt.Errorf("create the event log rule: %w", err)
	}
	logARN := "arn:aws:logs:" + awsCfg.Region + ":" + account + ":log-group:" + EventLog
	if _, err := s.Events.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(rule), EventBusName: aws.String(EventBus),
		Targets: []ebtypes.Target{{Id: aws.String("event-log"), Arn: aws.String(logARN)}},
	}); err != nil {
		return fmt.Errorf("target the event log: %w", err)
	}
	return nil
}

// startWorkflowStarter starts each approval's workflow from the table's
// stream, as functions/start-release does on AWS with its own event source
// mapping (so it reads the stream with its own iterator).
func (s *Stack) startWorkflowStarter(ctx context.Context, awsCfg aws.Config, faults *Faults) {
	var client workflow.SFN = s.SFN
	if faults != nil && faults.StarterSFN != nil {
		client = faults.StarterSFN(client)
	}
	st := &starter.Starter{Workflow: &workflow.StepFunctions{Client: client, StateMachineARN: s.StateMachineARN}, Pacer: s.pacer, Log: s.log}
	s.pollStream(ctx, awsCfg, "start-release", st.HandleStream)
}

// createReleaseQueue creates the release queue, with the visibility
// timeout and dead-letter queue the stack gives it.
func (s *Stack) createReleaseQueue(ctx context.Context, awsCfg aws.Config) error {
	q := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	if _, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("release-dlq")}); err != nil {
		return fmt.Errorf("create the release dead-letter queue: %w", err)
	}
	dlqARN := "arn:aws:sqs:" + awsCfg.Region + ":" + account + ":release-dlq"
	created, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("release"), Attributes: map[string]string{
		"VisibilityTimeout": strconv.Itoa(workflow.ReleaseQueueVisibilitySeconds),
		"RedrivePolicy":     `{"deadLetterTargetArn":"` + dlqARN + `","maxReceiveCount":"5"}`,
	}})
	if err != nil {
		return fmt.Errorf("create the release queue: %w", err)
	}
	s.releaseQueue.url = aws.ToString(created.QueueUrl)
	s.releaseQueue.arn = "arn:aws:sqs:" + awsCfg.Region + ":" + account + ":release"
	s.releaseQueue.client = q
	return nil
}

// pollReleaseQueue hands the release queue's batches to the release-batch
// consumer until ctx ends, as the event source mapping does on AWS.
func (s *Stack) pollReleaseQueue(ctx context.Context, handle sqspoll.Handler) {
	poller := &sqspoll.Poller{Client: s.releaseQueue.client, QueueURL: s.releaseQueue.url, QueueARN: s.releaseQueue.arn,
		BatchSize: workflow.ReleaseBatchSize, Window: workflow.ReleaseBatchWindowSeconds * time.Second,
		Concurrency: workflow.ReleaseBatchMaxConcurrency, Timeout: workflow.ReleaseBatchTimeoutSeconds * time.Second,
		Log: s.log.With("consumer", "release-batch")}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := poller.Run(ctx, handle); err != nil {
			s.log.Error("release queue poller stopped", "err", err)
		}
	}()
}

// pollStream reads the table's stream for one consumer until ctx ends.
func (s *Stack) pollStream(ctx context.Context, awsCfg aws.Config, name string, handle streampoll.Handler) {
	streams := dynamodbstreams.NewFromConfig(awsCfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(s.moto.Endpoint()) })
	poller := &streampoll.Poller{Client: streams, StreamARN: s.streamARN, Interval: 200 * time.Millisecond, Log: s.log.With("consumer", name)}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		if err := poller.Run(ctx, handle); err != nil {
			s.log.Error("stream poller stopped", "consumer", name, "err", err)
		}
	}()
}

// startReconciler runs the reconciler every cfg.ReconcileEvery, as the
// schedule does on AWS (shared/reconcile).
func (s *Stack) startReconciler(ctx context.Context, cfg Config) {
	if cfg.ReconcileEvery <= 0 {
		return
	}
	wf := &workflow.StepFunctions{Client: s.SFN, StateMachineARN: s.StateMachineARN}
	r := &reconcile.Reconciler{
		Store: s.Store, Executions: wf, Starter: wf,
		Grace: cfg.ReconcileGrace, MaxWait: cfg.MaxWait, RetryBudget: cfg.RetryBudget,
		Log: s.log.With("consumer", "reconcile"),
	}
	s.every(ctx, cfg.ReconcileEvery, "reconcile", func(ctx context.Context) error {
		_, err := r.Run(ctx)
		return err
	})
}

// startExpiry runs the expiry sweep every cfg.ExpiryEvery, as the schedule
// does on AWS (shared/expiry), with the outbox as its mailer.
func (s *Stack) startExpiry(ctx context.Context, cfg Config) error {
	if cfg.ExpiryEvery <= 0 {
		return nil
	}
	sw := &expiry.Sweeper{Store: s.Store, Backfill: s.Store, Mailer: s.Outbox, TTL: cfg.ExpiryTTL, Reminders: cfg.ExpiryReminders,
		Events: &expiry.Events{Client: s.Events, Bus: EventBus},
		Log:    s.log.With("consumer", "expiry")}
	if err := sw.Check(); err != nil {
		return err
	}
	s.every(ctx, cfg.ExpiryEvery, "expiry sweep", func(ctx context.Context) error {
		_, err := sw.Run(ctx)
		return err
	})
	return nil
}

// every calls run every d until ctx ends, as an EventBridge schedule does
// on AWS, and logs its errors under what.
func (s *Stack) every(ctx context.Context, d time.Duration, what string, run func(context.Context) error) {
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := run(ctx); err != nil && ctx.Err() == nil {
					s.log.Error(what, "err", err)
				}
			}
		}
	}()
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, hs)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
}

// Close stops everything Start started.
func (s *Stack) Close() error {
	if s.cancel != nil {
		s.cancel()
		s.background.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range s.servers {
		_ = hs.Shutdown(ctx)
	}
	if s.front != nil {
		s.front.Wait()
	}
	if s.moto != nil {
		return s.moto.Stop()
	}
	return nil
}

// AWSConfig is an SDK configuration for the emulator behind the stack.
func (s *Stack) AWSConfig() aws.Config { return s.moto.AWSConfig() }
