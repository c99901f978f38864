# Number Release: build, test, run, deploy (GNU make). `make help` lists the targets;
# docs/TESTING.md and docs/DEPLOY.md explain them.

GO         ?= go
GOFMT      ?= $(shell $(GO) env GOROOT)/bin/gofmt
PYTHON     ?= python3
PKG        ?= ./...
TEST_FLAGS ?=
STAGE      ?= dev
BUILD_DIR  ?= build
CDK_OUT    ?= cdk.out

# Where things live (a move is an edit here).
LOCAL_CMD      := ./shared/harness/local
LOCALSTACK_DIR := shared/harness/localstack
BROWSER_DIR    := e2e/browser
APIFUZZ_DIR    := e2e/apifuzz

# Pinned tools; .ci/install puts them into the virtualenv. A new MOTO_VERSION
# goes with EXPECTED_MOTO in shared/harness/emulator/moto_server.py.
MOTO_VERSION         := 5.2.5
SCHEMATHESIS_VERSION := 4.32.5
VENV     := .venv
CHROMIUM := /usr/bin/chromium
INSTALL  := VENV='$(VENV)' PYTHON='$(PYTHON)' CHROMIUM='$(CHROMIUM)' MOTO_VERSION=$(MOTO_VERSION) \
	SCHEMATHESIS_VERSION=$(SCHEMATHESIS_VERSION) .ci/install

# The emulator finds moto's Python here; the CDK's jsii kernel runs on a Node.js
# past the versions jsii lists, or on one at its end of life (Debian's 18 or 20;
# jsii wants the majors, not 1): no banner for either on every synthesis or
# infra test (the CDK app, infra/main.go, sets the second one itself too).
export MOTO_PYTHON ?= $(abspath $(VENV))/bin/python3
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 18,20
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help deps emulator node chromium cdk-cli test vet fmt-check e2e fuzz browser-test api-fuzz bench \
	build run clean synth diff bootstrap deploy localstack-up localstack-down build-local deploy-local e2e-local

help: ## list targets and the main variables
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-15s %s\n", $$1, $$2}'
	@echo "Variables: PKG=$(PKG) TEST_FLAGS='$(TEST_FLAGS)' STAGE=$(STAGE) BUILD_DIR=$(BUILD_DIR) (BROWSER_TEST=0, API_FUZZ=0: skip those)"

# ---- Set-up: .ci/install installs; stamp files keep it from running again.
MOTO_STAMP         := $(VENV)/.installed-moto-$(MOTO_VERSION)
SCHEMATHESIS_STAMP := $(VENV)/.installed-schemathesis-$(SCHEMATHESIS_VERSION)
BROWSER_STAMP      := $(BROWSER_DIR)/node_modules/.installed
# The pinned CDK CLI sits in a dot directory: `go ./...` would read the Go
# files of a node_modules anywhere else in the tree.
CDK_CLI  := .cdk-cli
CDK      := $(CDK_CLI)/node_modules/.bin/cdk
CDKLOCAL := $(CDK_CLI)/node_modules/.bin/cdklocal

deps: emulator node ## download Go modules, install the AWS emulator and Node.js
	$(GO) mod download
emulator: $(MOTO_STAMP) ## install moto[server] (MOTO_VERSION) into .venv
node: ## install Node.js (the CDK's jsii kernel) if missing
	@$(INSTALL) node
chromium: $(CHROMIUM) ## install Debian's Chromium for the browser test
$(CHROMIUM): ; @$(INSTALL) chromium
$(MOTO_STAMP): ; @$(INSTALL) moto && touch $@
$(SCHEMATHESIS_STAMP): $(MOTO_STAMP) ; @$(INSTALL) schemathesis && touch $@
$(BROWSER_STAMP): $(BROWSER_DIR)/package.json $(BROWSER_DIR)/package-lock.json
	$(INSTALL) node npm && cd $(BROWSER_DIR) && npm ci --no-audit --no-fund && touch node_modules/.installed
cdk-cli: $(CDK) ## install the pinned CDK CLI and cdklocal into .cdk-cli/
$(CDK): infra/cdk-cli/package.json infra/cdk-cli/package-lock.json
	$(INSTALL) node npm && mkdir -p $(CDK_CLI) && cp $^ $(CDK_CLI)/ && cd $(CDK_CLI) && npm ci --no-audit --no-fund && touch node_modules/.bin/cdk

# ---- Tests. On the whole tree the end-to-end suite runs after the other
# packages, not beside them (starving its bulk approval of CPU would measure
# the machine), then the browser test, the API fuzz run and the fuzz targets.
BROWSER_TEST ?= 1
API_FUZZ     ?= 1
WHOLE_TREE   := $(filter ./...,$(PKG))

test: deps vet fmt-check ## vet, gofmt check, go test (PKG, TEST_FLAGS); on the whole tree also browser-test, api-fuzz, fuzz
	$(GO) test -count=1 -timeout 30m $(TEST_FLAGS) $(if $(WHOLE_TREE),$$($(GO) list ./... | grep -vx numberrelease/e2e),$(PKG))
	$(if $(WHOLE_TREE),$(GO) test -count=1 -timeout 30m $(TEST_FLAGS) ./e2e)
	$(if $(WHOLE_TREE),$(if $(filter-out 0,$(BROWSER_TEST)),@$(MAKE) --no-print-directory browser-test))
	$(if $(WHOLE_TREE),$(if $(filter-out 0,$(API_FUZZ)),@$(MAKE) --no-print-directory api-fuzz))
	$(if $(WHOLE_TREE),@$(MAKE) --no-print-directory fuzz)

vet: ## go vet (PKG)
	$(GO) vet $(PKG)
fmt-check: ## fail listing Go files (tracked or not ignored) that gofmt would change
	@files=$$( { git ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null || \
		find . -name '*.go' -not -path './.venv/*' -not -path '*/node_modules/*' -not -path './cdk.out/*'; } | \
		while read -r f; do [ -f "$$f" ] && echo "$$f"; done ); \
	[ -z "$$files" ] && exit 0; bad=$$($(GOFMT) -l $$files) || exit 1; \
	if [ -n "$$bad" ]; then echo "gofmt needed (run: gofmt -w <file>):"; echo "$$bad"; exit 1; fi

e2e: deps ## the end-to-end suite; E2E_BASE_URL=<url> runs it against a running system (TEST_FLAGS)
	E2E_BASE_URL='$(E2E_BASE_URL)' $(GO) test -count=1 $(TEST_FLAGS) ./e2e
# Fixed execution counts on top of the committed corpora (testdata/fuzz/): a
# -fuzztime duration can end in a spurious "context deadline exceeded" before
# Go 1.27 (golang/go#75804). FUZZTIME=5m digs deeper. Two targets run at a
# time (most of a target's time is building its instrumented test binary),
# each line marked with its target; the longest build comes first.
FUZZ_TARGETS := ./shared/httpapi:FuzzDecodeJSON:30000x ./shared/number:FuzzParse:150000x \
	./shared/zoomsig:FuzzVerify:400000x ./shared/zoomhook:FuzzWebhook:40000x
fuzz: deps ## fuzz number parsing, request decoding and webhook verification (fixed counts, or FUZZTIME each)
	@printf '%s\n' $(FUZZ_TARGETS) | FUZZTIME='$(FUZZTIME)' GO='$(GO)' xargs -P 2 -I{} bash -o pipefail -c \
		't={}; pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${FUZZTIME:-$${rest#*:}}; \
		echo "fuzz $$name ($$budget)"; "$$GO" test -run "^$$" -fuzz "^$$name$$" -fuzztime "$$budget" "$$pkg" 2>&1 | sed -u "s/^/[$$name] /"'

browser-test: emulator chromium $(BROWSER_STAMP) ## the web pages in Chromium, through the seed's steps
	cd $(BROWSER_DIR) && node --test --test-reporter=spec --test-concurrency=2 customer.test.mjs release.test.mjs portal.test.mjs requests.test.mjs settings.test.mjs signin.test.mjs poller.test.mjs lists.test.mjs
API_FUZZ_SEED     ?= 20261201
API_FUZZ_EXAMPLES ?= 100
api-fuzz: emulator $(SCHEMATHESIS_STAMP) ## Schemathesis against the local system (API_FUZZ_SEED, API_FUZZ_EXAMPLES)
	API_FUZZ_SEED='$(API_FUZZ_SEED)' API_FUZZ_EXAMPLES='$(API_FUZZ_EXAMPLES)' GO='$(GO)' \
		SCHEMATHESIS='$(abspath $(VENV))/bin/schemathesis' $(VENV)/bin/python3 $(APIFUZZ_DIR)/run.py

bench: deps ## measure (Go benchmarks, bundle sizes, init time, workflow cost, approval-call time for 300 and 500 numbers, 1,000-number throughput alone and beside a CPU hog; about 30 min) and rewrite BENCHMARKS.md
	$(GO) run ./e2e/bench -out BENCHMARKS.md

# ---- Build and run. $(call lambdas,GOARCH,DIR): every functions/<name>/main.go
# becomes DIR/<name>/bootstrap for Lambda's provided.al2023 runtime, built by
# infra/lambdabuild: the code the CDK app runs itself before every synthesis
# (so synth, diff and deploy need no `make build`), with the same flags.
lambdas = $(GO) run ./infra/build-lambdas -goarch $(1) -out '$(2)'

build: ## Lambda bundles BUILD_DIR/<name>/bootstrap (linux/arm64), as the CDK app builds them
	$(call lambdas,arm64,$(BUILD_DIR))
run: deps ## the whole system on 127.0.0.1:8080 (PORT, HOST); Ctrl-C stops it
	$(GO) run $(LOCAL_CMD)
clean: ## remove build output, the virtualenv and the CDK CLI
	rm -rf build $(VENV) $(CDK_CLI) $(CDK_OUT)

# ---- AWS (docs/DEPLOY.md). The CDK app reads cdk.json itself (infra/main.go).
CDK_CONTEXT = -c stage=$(STAGE) -c buildDir=$(abspath $(BUILD_DIR)) $(if $(ALARM_EMAIL),-c 'alarmEmail=$(ALARM_EMAIL)')
# The stack needs no parameter: the token issuer is its own Cognito user pool (or the
# stage's "identity" in cdk.json) and the customer app's URL is its front door's. These
# optional ones keep their current value (or default) unless set.
param = $(if $($(1)),--parameters '$(2)=$($(1))')
DEPLOY_PARAMS = $(call param,ZOOM_API_BASE,ZoomApiBase) \
	$(call param,ZOOM_OAUTH_URL,ZoomOAuthUrl) $(call param,RECHECK_SECONDS,RecheckSeconds) \
	$(call param,MAX_WAIT_SECONDS,MaxWaitSeconds) $(call param,RECONCILE_GRACE_SECONDS,ReconcileGraceSeconds) \
	$(call param,RETRY_BUDGET_SECONDS,RetryBudgetSeconds)

synth: ## build the bundles, write cdk.out/NumberRelease-STAGE.template.json, print cdk-nag findings (STAGE, BUILD_DIR, ALARM_EMAIL)
	$(GO) run ./infra -stage '$(STAGE)' -build-dir '$(BUILD_DIR)' -out '$(abspath $(CDK_OUT))'$(if $(ALARM_EMAIL), -alarm-email '$(ALARM_EMAIL)')
	@echo "template: $(CDK_OUT)/NumberRelease-$(STAGE).template.json (cdk-nag: no unsuppressed findings)"
diff: $(CDK) ## what deploying NumberRelease-STAGE would change (pinned CLI, AWS credentials)
	$(CDK) diff $(CDK_CONTEXT) 'NumberRelease-$(STAGE)'
bootstrap: $(CDK) ## once per account and region: the CDK's deployment resources
	$(CDK) bootstrap $(CDK_CONTEXT)
deploy: $(CDK) ## deploy NumberRelease-STAGE (optional: ALARM_EMAIL, ZOOM_API_BASE, RECHECK_SECONDS, ...); prints AppUrl, PortalUrl
	$(CDK) deploy --require-approval broadening $(CDK_CONTEXT) 'NumberRelease-$(STAGE)' \
		--outputs-file '$(CDK_OUT)/outputs-$(STAGE).json' $(strip $(DEPLOY_PARAMS))

# ---- LocalStack (docs/DEPLOY.md): needs Docker; not run by CI. The stack trusts
# `make run`'s token issuer (cdk.json's stage local: "identity", issuer
# http://localhost:8080/local, JWKS at host.docker.internal:8080; no front door,
# since LocalStack's community edition has neither CloudFront nor Cognito) and
# calls its Zoom simulator: LOCAL_RUN_URL as this machine sees it, LOCAL_RUN_LAMBDA
# as the Lambda containers do.
LOCALSTACK_COMPOSE := docker compose -f $(LOCALSTACK_DIR)/docker-compose.yml
LOCALSTACK_URL   ?= http://localhost:4566
LOCAL_RUN_URL    ?= http://localhost:8080
LOCAL_RUN_LAMBDA ?= http://host.docker.internal:8080
LOCAL_GOARCH     ?= $(shell $(GO) env GOARCH)
LOCAL_BUILD      := build/localstack
LOCAL_OUTPUTS    := $(CDK_OUT)/outputs-local.json
FRONT_ADDR       ?= 127.0.0.1:8090
# cdklocal drops AWS_* variables not allowed here; LocalStack takes any
# credentials. The S3 endpoint must contain ".s3." (aws-cdk-local's README).
LOCAL_AWS := AWS_ENDPOINT_URL='$(LOCALSTACK_URL)' AWS_ENDPOINT_URL_S3='http://s3.localhost.localstack.cloud:4566' \
	AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_ENVAR_ALLOWLIST=AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY
local_output = $$(node -p 'require("./$(LOCAL_OUTPUTS)")["NumberRelease-local"].$(1)')

localstack-up: ## start LocalStack (pinned image, Docker) on :4566 and wait until healthy
	$(LOCALSTACK_COMPOSE) up -d --wait
localstack-down: ## stop LocalStack and drop its state
	$(LOCALSTACK_COMPOSE) down -v
# The stack declares arm64; LocalStack runs these natively (LAMBDA_IGNORE_ARCHITECTURE).
# deploy-local has the CDK app build them (-c goarch); build-local builds them alone.
build-local: ## Lambda bundles for this machine's architecture (LOCAL_GOARCH) in build/localstack/
	$(call lambdas,$(LOCAL_GOARCH),$(LOCAL_BUILD))
LOCAL_CONTEXT := -c stage=local -c buildDir=$(abspath $(LOCAL_BUILD)) -c goarch=$(LOCAL_GOARCH)

deploy-local: $(CDK) ## deploy stage local to LocalStack (after localstack-up; HOST=0.0.0.0 make run beside it)
	$(LOCAL_AWS) $(CDKLOCAL) bootstrap $(LOCAL_CONTEXT)
	$(LOCAL_AWS) $(CDKLOCAL) deploy --require-approval never $(LOCAL_CONTEXT) \
		NumberRelease-local --outputs-file '$(LOCAL_OUTPUTS)' \
		--parameters 'ZoomApiBase=$(LOCAL_RUN_LAMBDA)/zoom-sim/v2' \
		--parameters 'ZoomOAuthUrl=$(LOCAL_RUN_LAMBDA)/zoom-sim/oauth/token' --parameters 'RecheckSeconds=10'
	@# The Zoom simulator's local credentials, not secrets.
	$(LOCALSTACK_COMPOSE) exec -T localstack awslocal secretsmanager put-secret-value \
		--secret-id "$(call local_output,ZoomSecretArn)" \
		--secret-string '{"client_id":"local-zoom-client","client_secret":"local-zoom-client-secret","webhook_secret_token":"local-webhook-secret"}'
	@echo "API: $(call local_output,ApiUrl)"

e2e-local: ## seed the deployed table, then the e2e suite through the LocalStack front (after deploy-local)
	$(GO) build -o build/localstack-front ./$(LOCALSTACK_DIR)/front
	@set -e; $(LOCAL_AWS) build/localstack-front -listen '$(FRONT_ADDR)' -local '$(LOCAL_RUN_URL)' \
		-localstack '$(LOCALSTACK_URL)' -api-url "$(call local_output,ApiUrl)" \
		-seed-table "$(call local_output,TableName)" & front=$$!; trap 'kill $$front 2>/dev/null' EXIT; \
	for i in $$(seq 1 60); do curl -fs -o /dev/null 'http://$(FRONT_ADDR)/local/jwks.json' && break; sleep 1; done; \
	E2E_BASE_URL='http://$(FRONT_ADDR)' $(GO) test -count=1 $(TEST_FLAGS) ./e2e
