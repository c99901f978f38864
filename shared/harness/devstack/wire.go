package devstack

import (
	"context"
	"fmt"
	"net/http"

	"numberrelease/shared/apispec"
	"numberrelease/shared/auth"
	"numberrelease/shared/config"
	"numberrelease/shared/customers"
	"numberrelease/shared/domain"
	"numberrelease/shared/harness/demo"
	"numberrelease/shared/harness/localauth"
	"numberrelease/shared/harness/managedlogin"
	"numberrelease/shared/harness/zoomsim"
	"numberrelease/shared/httpapi"
	"numberrelease/shared/pacing"
	"numberrelease/shared/ratelimit"
	"numberrelease/shared/release"
	"numberrelease/shared/slots"
	"numberrelease/shared/store"
	"numberrelease/shared/tasks"
	"numberrelease/shared/workflow"
	"numberrelease/shared/zoom"
	"numberrelease/shared/zoomauth"
	"numberrelease/shared/zoomhook"
	"numberrelease/web"
)

// Audience is the audience of local tokens.
const Audience = "number-release"

// DefaultCarrierAccount is the carrier's own Zoom account in the simulator
// in carrier mode when Config.CarrierAccountID names none.
const DefaultCarrierAccount = "zoom-carrier"

// wire builds the handlers exactly as the Lambdas do and mounts them; bg
// runs the consumers standing in for AWS triggers until the stack closes.
func (s *Stack) wire(ctx, bg context.Context, cfg Config) (http.Handler, error) {
	log := cfg.Log
	issuer, err := localauth.New(s.URL+"/local", Audience)
	if err != nil {
		return nil, fmt.Errorf("local issuer: %w", err)
	}
	s.Issuer = issuer
	pool, err := s.startSignIn(ctx, cfg.Demo)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	// Two issuers, as an operator may configure on AWS: the pages' user
	// pool, and the local issuer for scripts and tests (/local/token).
	verifier, err := auth.NewIssuers(pool, auth.Config{JWKSURL: s.URL + issuer.JWKSPath(), Issuer: issuer.Issuer(), Audience: Audience})
	if err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	apiStore := s.Store
	if cfg.Faults != nil && cfg.Faults.APIStore != nil {
		apiStore = store.New(cfg.Faults.APIStore(s.ddb), TableName)
	}
	wf := &workflow.StepFunctions{Client: s.SFN, StateMachineARN: s.StateMachineARN}
	svc := release.New(apiStore, wf, log)

	// The simulator enforces Zoom's per-account, per-label limits; the
	// client paces itself within the same limits through the DynamoDB
	// limiter every task invocation shares, as the Lambdas do on AWS.
	s.Sim = zoomsim.New(zoomsim.Config{
		ClientID: simClientID, ClientSecret: simClientSecret,
		WebhookURL: s.URL + "/zoom/webhook", WebhookSecret: []byte(cfg.WebhookSecret),
		RateLimits: &zoomsim.RateLimits{Limits: cfg.ZoomLimits},
	})
	limiter, err := ratelimit.NewDynamoDB(ratelimit.Config{Client: s.ddb, Table: TableName, Limits: cfg.ZoomBudget()})
	if err != nil {
		return nil, fmt.Errorf("zoom rate limiter: %w", err)
	}
	zcfg := zoom.Config{
		APIBase: s.URL + "/zoom-sim/v2", OAuthURL: s.URL + "/zoom-sim/oauth/token",
		ClientID: simClientID, ClientSecret: simClientSecret, Limiter: limiter,
	}
	// As on AWS (shared/zoomclient): in customer mode every call uses the
	// customer's own authorization, sealed in the table with the KMS key.
	grants := &zoomauth.Grants{DB: s.ddb, Table: TableName}
	sealer := &zoomauth.Sealer{KMS: s.kms, KeyID: s.tokensKey}
	if cfg.ReleaseMode != domain.ModeCarrier {
		zcfg.Tokens = &zoomauth.Tokens{Grants: grants, Box: sealer, Log: log,
			App: func(context.Context) (zoomauth.Refresher, error) { return s.zoomApp(), nil }}
	}
	zc, err := zoom.New(zcfg)
	if err != nil {
		return nil, fmt.Errorf("zoom client: %w", err)
	}
	conns := &zoomauth.Connections{Grants: grants, States: grants, Customers: apiStore, Box: sealer,
		App:         func(context.Context) (zoomauth.OAuthApp, error) { return s.zoomApp(), nil },
		RedirectURL: s.URL + "/", Waker: release.NewHints(apiStore, wf, log), Log: log, Required: cfg.ReleaseMode != domain.ModeCarrier}
	tcfg := tasks.Config{Recheck: cfg.Recheck, MaxWait: cfg.MaxWait, Mode: cfg.ReleaseMode, CarrierCode: cfg.CarrierCode,
		RetryBudget: cfg.RetryBudget, RetryPause: cfg.RetryPause}
	if tcfg.Mode == domain.ModeCarrier {
		// The carrier's own Zoom account, as the simulator knows it: its
		// tokens read the carrier's view and remove through the Provider
		// Exchange (the local client's one app stands for the carrier's).
		tcfg.CarrierAccountID = cfg.CarrierAccountID
		if tcfg.CarrierAccountID == "" {
			tcfg.CarrierAccountID = DefaultCarrierAccount
		}
		if cfg.CarrierCode > 0 {
			s.Sim.AddCarrier(tcfg.CarrierAccountID, cfg.CarrierCode)
		}
	}
	if s.ReleaseTasksConcurrency > 0 {
		// The same lease semaphore, in the emulator's table, as on AWS.
		sem, err := slots.New(slots.Config{Client: s.ddb, Table: TableName, Name: tasks.SlotsName,
			Size: s.ReleaseTasksConcurrency, Lease: config.ReleaseTasksSlotLease})
		if err != nil {
			return nil, fmt.Errorf("release-tasks concurrency: %w", err)
		}
		tcfg.Slots = sem
	}
	// One start queue per customer (shared/pacing), as on AWS: start-release
	// takes the approvals' turns from it, a busy check its next turn.
	pacer, err := pacing.New(pacing.Config{Client: s.ddb, Table: TableName, Interval: pacing.Interval(cfg.ZoomBudget())})
	if err != nil {
		return nil, fmt.Errorf("start queue: %w", err)
	}
	s.pacer, tcfg.Queue = pacer, pacer
	s.mode = tcfg.Mode
	if tcfg.Mode == domain.ModeCarrier {
		s.carrierCode = cfg.CarrierCode
	}
	if err := tcfg.Validate(); err != nil {
		return nil, err
	}
	tk := tasks.New(s.Store, zc, &workflow.Successors{Client: s.SFN}, tcfg, log)
	handle := tk.Handle
	if cfg.AWSCalls != nil {
		handle = cfg.AWSCalls.countInvokes(handle)
	}
	s.front.Register(tasksFunction, handle)
	// release-batch: the release queue's consumer, in-process like the
	// stream consumers (uncounted by the front's account cap).
	s.pollReleaseQueue(bg, (&tasks.Consumer{Releaser: tk, Tokens: s.SFN, Queue: s.releaseQueue.client, QueueURL: s.releaseQueue.url,
		Log: log.With("function", "release-batch")}).HandleSQS)

	mux := http.NewServeMux()
	mux.Handle("/local/", issuer.Handler())
	mux.Handle("GET /local/outbox", s.Outbox.Handler())
	mux.Handle(managedlogin.Prefix+"/", s.login.Handler())
	mux.Handle("/zoom-sim/", s.Sim.Handler())
	mux.HandleFunc("POST /zoom-sim/admin/authorize", s.handleAuthorize)
	mux.Handle("/zoom/webhook", withLambdaDeadline(zoomhook.New(zoomhook.Config{Secret: []byte(cfg.WebhookSecret), Log: log,
		Deauthorizer: &zoomauth.Revocations{Grants: grants, Log: log}}, release.NewHints(apiStore, wf, log))))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", apispec.ContentType)
		_, _ = w.Write(apispec.Document())
	})
	// The web pages (package web): the customer app at exactly "/", the
	// management portal, their assets, and the Zoom simulator's page at
	// exactly "/zoom-sim/" (its API stays under /zoom-sim/v2, admin, oauth).
	pages := web.Handler(s.pagesConfig())
	mux.Handle("GET /{$}", pages)
	mux.Handle("GET /portal", pages)
	mux.Handle("GET /web/", pages)
	mux.Handle("GET /zoom-sim/{$}", pages)
	mux.Handle("/", withLambdaDeadline(httpapi.New(svc, verifier, apiStore, log,
		httpapi.WithZoomConnections(conns), httpapi.WithCustomers(customers.New(apiStore, log)), httpapi.WithWebhooks(s.webhooks))))
	return mux, nil
}

// withLambdaDeadline gives each request the deadline its Lambda has on AWS
// (the function's timeout, config.APITimeout), so the handlers bound their
// work here exactly as they do there.
func withLambdaDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), config.APITimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// seedDemo loads the demo (package demo): acme's Zoom account holds both
// numbers, the second assigned to a user, and pxc has already asked for
// both, so acme's Wait for Release tab shows them.
func (s *Stack) seedDemo(ctx context.Context) error {
	// In carrier mode the numbers are the carrier's peering numbers.
	s.Sim.PutPeering("zoom-acme", "+"+demo.Unassigned, s.carrierCode, nil)
	s.Sim.PutPeering("zoom-acme", "+"+demo.Assigned, s.carrierCode, &zoom.Assignee{ID: "u-dana", Name: "Dana Levi", Type: "user", ExtensionNumber: "1001"})
	if err := demo.Seed(ctx, s.Store, s.log); err != nil {
		return err
	}
	if s.mode == domain.ModeCarrier {
		return nil // the carrier's own credentials do everything
	}
	// The demo customers start connected, through the real Connect Zoom.
	for _, c := range demo.Customers {
		status, body, err := s.ConnectZoom(ctx, c.ID, c.ZoomAccountID)
		if err != nil {
			return fmt.Errorf("connect zoom of %s: %w", c.ID, err)
		}
		if status != http.StatusOK {
			return fmt.Errorf("connect zoom of %s: %d %s", c.ID, status, body)
		}
	}
	return nil
}
