# Number Release — build, test and run. GNU make.
#
#   make test                                  every check and every test
#   make test PKG=./shared/store TEST_FLAGS='-run TestX -v'
#   make build                                 Lambda bundles in build/<name>/bootstrap
#
# The AWS emulator (moto in server mode, see docs/EMULATOR.md) is installed into a
# project-local virtualenv; nothing is taken from the machine beyond python3.

MOTO_VERSION := 5.2.5
VENV         := .venv
GO           ?= go
GOFMT        ?= $(shell $(GO) env GOROOT)/bin/gofmt
PYTHON       ?= python3
PKG          ?= ./...
TEST_FLAGS   ?=

# The emulator package finds moto (.venv/bin/python3) here (shared/emulator).
MOTO_PYTHON  ?= $(abspath $(VENV))/bin/python3
export MOTO_PYTHON

MOTO_STAMP   := $(VENV)/.installed-$(MOTO_VERSION)

# The CDK (infra tests, synth) runs its jsii kernel on Node.js; Node 20 works
# but is past the versions jsii lists, which it would print on every run.
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

# Run as root (CI) or through sudo when installing Debian packages.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help deps emulator node fuzz test vet fmt-check build run clean

help: ## list targets
	@echo "Targets:"
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'
	@echo "Variables: PKG=$(PKG) TEST_FLAGS='$(TEST_FLAGS)' GO=$(GO) MOTO_VERSION=$(MOTO_VERSION)"

deps: emulator node ## download Go modules, install the AWS emulator, check Node.js
	$(GO) mod download

node: ## make sure Node.js (for the CDK's jsii kernel) is installed
	@command -v node >/dev/null || { \
		echo "node is missing; installing Debian's nodejs" >&2; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends nodejs; }

emulator: $(MOTO_STAMP) ## install moto[server] (MOTO_VERSION) into .venv

# Creating a venv needs ensurepip, which Debian ships separately in
# python3-venv. Only when creation fails is that package installed (apt-get,
# as root or via sudo) and creation retried.
$(MOTO_STAMP):
	@if ! $(PYTHON) -m venv $(VENV); then \
		echo "$(PYTHON) -m venv failed; installing python3-venv and retrying" >&2; \
		rm -rf $(VENV); \
		command -v apt-get >/dev/null || { echo "no apt-get: install the venv module for $(PYTHON) by hand" >&2; exit 1; }; \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends python3-venv && \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(VENV)/bin/pip install --disable-pip-version-check -q "moto[server]==$(MOTO_VERSION)"
	@touch $@

# On the whole tree the end-to-end suite runs after the other packages, not
# beside them: its 500-number bulk approval measures throughput on the
# emulator, and starving it of CPU measures the machine instead.
E2E_PKG := numberrelease/e2e

test: deps vet fmt-check ## vet, gofmt check, then go test (PKG, TEST_FLAGS), then browser-test and api-fuzz (whole tree only)
ifeq ($(PKG),./...)
	$(GO) test -count=1 -timeout 30m $(TEST_FLAGS) $$($(GO) list ./... | grep -vx '$(E2E_PKG)')
	$(GO) test -count=1 -timeout 30m $(TEST_FLAGS) ./e2e
else
	$(GO) test -count=1 -timeout 30m $(TEST_FLAGS) $(PKG)
endif
	$(if $(filter ./...,$(PKG)),$(if $(filter-out 0,$(BROWSER_TEST)),@$(MAKE) --no-print-directory browser-test))
	$(if $(filter ./...,$(PKG)),$(if $(filter-out 0,$(API_FUZZ)),@$(MAKE) --no-print-directory api-fuzz))
	$(if $(filter ./...,$(PKG)),@$(MAKE) --no-print-directory fuzz)

# Each fuzz target runs a fixed number of executions on top of its committed
# seed corpus (testdata/fuzz/<Fuzz>/): about 6 s each on a 2-core machine.
# Counts, not durations: a duration -fuzztime can fail with a bare "context
# deadline exceeded" at its end (a race in Go's fuzz coordinator, golang/go#75804,
# fixed in Go 1.27). `make fuzz FUZZTIME=5m` digs deeper (duration, for hand use).
FUZZTIME ?=
FUZZ_TARGETS := ./shared/number:FuzzParse:150000x ./shared/zoomsig:FuzzVerify:400000x \
	./shared/httpapi:FuzzDecodeJSON:30000x ./shared/zoomhook:FuzzWebhook:40000x

fuzz: deps ## fuzz number parsing, request decoding and webhook verification (fixed counts, or FUZZTIME each)
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
		budget=$${FUZZTIME:-$$budget}; \
		echo "fuzz $$name ($$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime "$$budget" "$$pkg"; \
	done

vet: ## go vet (PKG)
	$(GO) vet $(PKG)

# Lists tracked and untracked-but-not-ignored Go files (find without git) and
# fails naming any that gofmt would change.
fmt-check: ## fail listing Go files that are not gofmt-formatted
	@files=$$( { git ls-files --cached --others --exclude-standard -- '*.go' 2>/dev/null || \
		find . -name '*.go' -not -path './.venv/*' -not -path './node_modules/*' -not -path './cdk.out/*'; } | \
		while read -r f; do [ -f "$$f" ] && echo "$$f"; done ); \
	[ -z "$$files" ] && exit 0; \
	bad=$$($(GOFMT) -l $$files) || exit 1; \
	if [ -n "$$bad" ]; then echo "gofmt needed (run: gofmt -w <file>):"; echo "$$bad"; exit 1; fi

# Every functions/<name>/ holding a main.go becomes build/<name>/bootstrap
# for the provided.al2023 arm64 runtime.
build: ## build Lambda bundles build/<name>/bootstrap for every functions/<name>
	@set -e; for dir in functions/*/; do \
		name=$$(basename "$$dir"); \
		[ -f "functions/$$name/main.go" ] || continue; \
		echo "build/$$name/bootstrap"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath \
			-ldflags='-s -w' -o build/$$name/bootstrap ./functions/$$name; \
	done

run: deps ## run the whole system locally on 127.0.0.1:8080 (PORT, HOST) — emulator, API, workflow, Zoom simulator, demo data
	$(GO) run ./local

clean: ## remove build output and the virtualenv
	rm -rf build $(VENV) $(CDK_CLI) cdk.out

# ---- AWS CDK (infra/): synthesize, diff, deploy ------------------------------
#
#   make synth [STAGE=prod] [BUILD_DIR=/abs/bundles]   template in cdk.out/, cdk-nag findings printed
#   make diff STAGE=prod                               what a deploy would change
#   make bootstrap                                     once per account and region
#   make deploy STAGE=dev JWT_ISSUER=https://issuer.example/ \
#       JWT_AUDIENCE=number-release JWKS_URL=https://issuer.example/.well-known/jwks.json
#       [ALARM_EMAIL=oncall@example.com] [ZOOM_API_BASE=... ZOOM_OAUTH_URL=...
#        RECHECK_SECONDS=... MAX_WAIT_SECONDS=... RECONCILE_GRACE_SECONDS=...]
#
# A stage's settings are cdk.json's context "stages" (infra/stack/config.go).
# diff, bootstrap and deploy use the pinned CLI and the AWS credentials of the
# environment. Prerequisites and the steps after the first deploy: README
# "Deploy"; operating it: docs/OPERATIONS.md.

STAGE   ?= dev
CDK_OUT ?= cdk.out
# The pinned CDK CLI (infra/cdk-cli/package.json) is installed into .cdk-cli/,
# a dot directory, because `go ... ./...` would read the Go files inside
# node_modules anywhere else in the tree.
CDK_CLI := .cdk-cli
CDK     := $(CDK_CLI)/node_modules/.bin/cdk
DEPLOY_PARAMS := JWT_ISSUER JWT_AUDIENCE JWKS_URL
# Context beyond cdk.json: the stage, and an alarm email if given.
CDK_CONTEXT = -c stage=$(STAGE) $(if $(ALARM_EMAIL),-c 'alarmEmail=$(ALARM_EMAIL)')
# Optional parameters; unset ones keep their stack value (or default).
DEPLOY_OPTIONAL = $(strip \
	$(if $(ZOOM_API_BASE),--parameters 'ZoomApiBase=$(ZOOM_API_BASE)') \
	$(if $(ZOOM_OAUTH_URL),--parameters 'ZoomOAuthUrl=$(ZOOM_OAUTH_URL)') \
	$(if $(RECHECK_SECONDS),--parameters 'RecheckSeconds=$(RECHECK_SECONDS)') \
	$(if $(MAX_WAIT_SECONDS),--parameters 'MaxWaitSeconds=$(MAX_WAIT_SECONDS)') \
	$(if $(RECONCILE_GRACE_SECONDS),--parameters 'ReconcileGraceSeconds=$(RECONCILE_GRACE_SECONDS)'))

.PHONY: synth diff bootstrap deploy cdk-cli

# Checked when make reads the Makefile, so a deploy without them stops before
# building anything.
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
DEPLOY_MISSING := $(strip $(foreach v,$(DEPLOY_PARAMS),$(if $(strip $($(v))),,$(v))))
ifneq ($(DEPLOY_MISSING),)
$(error deploy needs $(DEPLOY_MISSING): make deploy STAGE=$(STAGE) JWT_ISSUER=<exact iss> JWT_AUDIENCE=<aud> JWKS_URL=<issuer JWKS URL>)
endif
endif

# Runs the Go app as the CDK CLI would (CDK_OUTDIR, and cdk.json's context in
# CDK_CONTEXT_JSON, plus stage, buildDir and alarmEmail), without needing the
# CLI. The app prints cdk-nag's findings and fails on any unsuppressed error.
synth: build ## write the CloudFormation template to cdk.out/, print cdk-nag findings (STAGE, BUILD_DIR, ALARM_EMAIL)
	@ctx=$$(STAGE='$(STAGE)' BUILD_DIR='$(BUILD_DIR)' ALARM_EMAIL='$(ALARM_EMAIL)' node -e ' \
		const c = require("./cdk.json").context || {}; \
		if (process.env.STAGE) c.stage = process.env.STAGE; \
		if (process.env.BUILD_DIR) c.buildDir = process.env.BUILD_DIR; \
		if (process.env.ALARM_EMAIL) c.alarmEmail = process.env.ALARM_EMAIL; \
		process.stdout.write(JSON.stringify(c));') && \
	CDK_OUTDIR='$(abspath $(CDK_OUT))' CDK_CONTEXT_JSON="$$ctx" $(GO) run ./infra
	@echo "template: $(CDK_OUT)/NumberRelease-$(STAGE).template.json (cdk-nag: no unsuppressed findings)"

diff: build $(CDK) ## show what deploying NumberRelease-STAGE would change (pinned CLI, AWS credentials)
	$(CDK) diff $(CDK_CONTEXT) 'NumberRelease-$(STAGE)'

bootstrap: build $(CDK) ## once per account/region: the CDK's deployment resources (AWS credentials)
	$(CDK) bootstrap $(CDK_CONTEXT)

deploy: build $(CDK) ## deploy NumberRelease-STAGE (JWT_ISSUER, JWT_AUDIENCE, JWKS_URL required; ALARM_EMAIL)
	$(CDK) deploy --require-approval broadening $(CDK_CONTEXT) 'NumberRelease-$(STAGE)' \
		--outputs-file '$(CDK_OUT)/outputs-$(STAGE).json' \
		--parameters 'JwtIssuer=$(JWT_ISSUER)' \
		--parameters 'JwtAudience=$(JWT_AUDIENCE)' \
		--parameters 'JwksUrl=$(JWKS_URL)' $(DEPLOY_OPTIONAL)

cdk-cli: $(CDK) ## install the pinned CDK CLI and cdklocal into .cdk-cli/

$(CDK): infra/cdk-cli/package.json infra/cdk-cli/package-lock.json | node
	@command -v npm >/dev/null || { echo "npm is missing: install it (Debian: apt-get install npm)" >&2; exit 1; }
	mkdir -p $(CDK_CLI) && cp infra/cdk-cli/package.json infra/cdk-cli/package-lock.json $(CDK_CLI)/
	cd $(CDK_CLI) && npm ci --no-audit --no-fund
	@touch $@

# ---- End-to-end suite against a running system -------------------------------
#
#   make e2e                                     in-process system on the emulator (as in make test)
#   make e2e E2E_BASE_URL=http://localhost:8080  against `make run`
#   make e2e E2E_BASE_URL=http://127.0.0.1:8090  against LocalStack through the front (make e2e-local)
#
# The suite reads E2E_BASE_URL itself (e2e/main_test.go); the base must serve
# /local/token and /zoom-sim/... as well as the API.

E2E_BASE_URL ?=

.PHONY: e2e

e2e: deps ## the end-to-end suite (E2E_BASE_URL: a running system; TEST_FLAGS)
	E2E_BASE_URL='$(E2E_BASE_URL)' $(GO) test -count=1 $(TEST_FLAGS) ./e2e/...

# ---- LocalStack route (deploy/localstack/): needs Docker; not run by CI --------
#
#   make localstack-up          LocalStack 4.14.0 (the last community image) on :4566
#   HOST=0.0.0.0 make run       in another terminal: the token issuer and Zoom simulator
#                               the deployed functions use (and the suite's helpers),
#                               on every interface so the containers reach it
#   make deploy-local           host-arch bundles, cdklocal bootstrap + deploy of stage
#                               "local", the simulator's credentials into the secret
#   make e2e-local              seed the deployed table, run the suite through the front
#   make localstack-down        stop LocalStack, drop its state
#
# README "LocalStack route" says what works and what differs from AWS.

LOCALSTACK_COMPOSE := docker compose -f deploy/localstack/docker-compose.yml
LOCALSTACK_URL   ?= http://localhost:4566
# `make run` as seen from this machine (the token issuer's exact iss) and
# from the Lambda containers (host.docker.internal, see the compose file).
LOCAL_RUN_URL    ?= http://localhost:8080
LOCAL_RUN_LAMBDA ?= http://host.docker.internal:8080
LOCAL_STACK_NAME := NumberRelease-local
LOCAL_BUILD      := build/localstack
LOCAL_GOARCH     ?= $(shell $(GO) env GOARCH)
LOCAL_OUTPUTS    := $(CDK_OUT)/outputs-local.json
FRONT_ADDR       ?= 127.0.0.1:8090
CDKLOCAL         := $(CDK_CLI)/node_modules/.bin/cdklocal
# cdklocal drops AWS_* variables not allowed here; LocalStack takes any
# credentials. The S3 endpoint must contain ".s3." (aws-cdk-local README).
LOCAL_AWS := AWS_ENDPOINT_URL='$(LOCALSTACK_URL)' \
	AWS_ENDPOINT_URL_S3='http://s3.localhost.localstack.cloud:4566' \
	AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_ENVAR_ALLOWLIST=AWS_REGION,AWS_DEFAULT_REGION,AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY
# Reads one output of the local stack.
local_output = $$(node -p 'require("./$(LOCAL_OUTPUTS)")["$(LOCAL_STACK_NAME)"].$(1)')

.PHONY: localstack-up localstack-down build-local deploy-local e2e-local

localstack-up: ## start LocalStack (pinned image, Docker) on :4566 and wait until healthy
	$(LOCALSTACK_COMPOSE) up -d --wait

localstack-down: ## stop LocalStack and drop its state
	$(LOCALSTACK_COMPOSE) down -v

# The stack says arm64; LocalStack runs these natively instead
# (LAMBDA_IGNORE_ARCHITECTURE in the compose file).
build-local: ## Lambda bundles for this machine's architecture (LOCAL_GOARCH) in build/localstack/
	@set -e; for dir in functions/*/; do \
		name=$$(basename "$$dir"); \
		[ -f "functions/$$name/main.go" ] || continue; \
		echo "$(LOCAL_BUILD)/$$name/bootstrap ($(LOCAL_GOARCH))"; \
		GOOS=linux GOARCH=$(LOCAL_GOARCH) CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath \
			-ldflags='-s -w' -o $(LOCAL_BUILD)/$$name/bootstrap ./functions/$$name; \
	done

deploy-local: build-local $(CDK) ## deploy stage "local" to LocalStack with cdklocal (make localstack-up, and make run for its issuer and Zoom simulator)
	$(LOCAL_AWS) $(CDKLOCAL) bootstrap -c stage=local -c buildDir=$(abspath $(LOCAL_BUILD))
	$(LOCAL_AWS) $(CDKLOCAL) deploy --require-approval never -c stage=local -c buildDir=$(abspath $(LOCAL_BUILD)) \
		$(LOCAL_STACK_NAME) --outputs-file '$(LOCAL_OUTPUTS)' \
		--parameters 'JwtIssuer=$(LOCAL_RUN_URL)/local' \
		--parameters 'JwtAudience=number-release' \
		--parameters 'JwksUrl=$(LOCAL_RUN_LAMBDA)/local/jwks.json' \
		--parameters 'ZoomApiBase=$(LOCAL_RUN_LAMBDA)/zoom-sim/v2' \
		--parameters 'ZoomOAuthUrl=$(LOCAL_RUN_LAMBDA)/zoom-sim/oauth/token' \
		--parameters 'RecheckSeconds=10'
	@# The Zoom simulator's local credentials (shared/devstack), not secrets.
	$(LOCALSTACK_COMPOSE) exec -T localstack awslocal secretsmanager put-secret-value \
		--secret-id "$(call local_output,ZoomSecretArn)" \
		--secret-string '{"client_id":"local-zoom-client","client_secret":"local-zoom-client-secret","webhook_secret_token":"local-webhook-secret"}'
	@echo "API: $(call local_output,ApiUrl)"

e2e-local: ## seed the deployed table, then the e2e suite through deploy/localstack/front (make deploy-local and make run first)
	$(GO) build -o build/localstack-front ./deploy/localstack/front
	@set -e; \
	$(LOCAL_AWS) build/localstack-front -listen '$(FRONT_ADDR)' -local '$(LOCAL_RUN_URL)' \
		-localstack '$(LOCALSTACK_URL)' -api-url "$(call local_output,ApiUrl)" \
		-seed-table "$(call local_output,TableName)" & front=$$!; \
	trap 'kill $$front 2>/dev/null' EXIT; \
	for i in $$(seq 1 60); do curl -fs -o /dev/null 'http://$(FRONT_ADDR)/local/jwks.json' && break; sleep 1; done; \
	E2E_BASE_URL='http://$(FRONT_ADDR)' $(GO) test -count=1 $(TEST_FLAGS) ./e2e/...

# ---- Browser tests of the web pages (web/, browsertest/) --------------------
#
#   make browser-test          Chromium + playwright-core click through the seed
#   make test BROWSER_TEST=0   every other test, without the browser tests
#
# Debian's Chromium is installed only if /usr/bin/chromium is missing, npm only
# if it is missing. playwright-core never downloads a browser here. It ships no
# Go files, so browsertest/node_modules (ignored by git) is safe from `go ./...`.

BROWSER_TEST ?= 1
CHROMIUM     := /usr/bin/chromium
BROWSERTEST  := browsertest
BROWSERTEST_STAMP := $(BROWSERTEST)/node_modules/.installed
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: browser-test chromium npm

chromium: ## make sure Debian's Chromium is installed (for browser-test)
	@[ -x $(CHROMIUM) ] || { \
		echo "$(CHROMIUM) is missing; installing Debian's chromium" >&2; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium fonts-dejavu-core; }

npm: node
	@command -v npm >/dev/null || { \
		echo "npm is missing; installing Debian's npm" >&2; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends npm; }

$(BROWSERTEST_STAMP): $(BROWSERTEST)/package.json $(BROWSERTEST)/package-lock.json | npm
	cd $(BROWSERTEST) && npm ci --no-audit --no-fund
	@touch $@

browser-test: emulator chromium $(BROWSERTEST_STAMP) ## browser tests of the web pages (starts the whole system itself)
	cd $(BROWSERTEST) && node --test --test-reporter=spec --test-concurrency=1 release.test.mjs

# ---- API fuzzing against the OpenAPI document (apifuzz/) --------------------
#
#   make api-fuzz                      Schemathesis against make run's system
#   make api-fuzz API_FUZZ_SEED=7 API_FUZZ_EXAMPLES=200   another seed, more examples
#   make test API_FUZZ=0               every other test, without it
#
# Schemathesis (pinned) is installed into .venv/ beside moto. apifuzz/run.py
# builds and starts ./local on a free loopback port, gets a customer (acme)
# and a provider (pxc) token from /local/token, runs Schemathesis with every
# check once per role and once for the unauthenticated operations, with a
# fixed seed and a bounded number of examples (about 1-2 minutes on 2 cores),
# then stops everything it started. Reports: test-artifacts/api-fuzz/.

SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_STAMP   := $(VENV)/.installed-schemathesis-$(SCHEMATHESIS_VERSION)
API_FUZZ             ?= 1
API_FUZZ_SEED        ?= 20261201
API_FUZZ_EXAMPLES    ?= 100

.PHONY: api-fuzz

$(SCHEMATHESIS_STAMP): $(MOTO_STAMP)
	$(VENV)/bin/pip install --disable-pip-version-check -q "schemathesis==$(SCHEMATHESIS_VERSION)"
	@touch $@

api-fuzz: emulator $(SCHEMATHESIS_STAMP) ## Schemathesis against the local system, driven by the OpenAPI document (API_FUZZ_SEED, API_FUZZ_EXAMPLES)
	API_FUZZ_SEED='$(API_FUZZ_SEED)' API_FUZZ_EXAMPLES='$(API_FUZZ_EXAMPLES)' GO='$(GO)' \
		SCHEMATHESIS='$(abspath $(VENV))/bin/schemathesis' $(VENV)/bin/python3 apifuzz/run.py

# ---- Performance measurement (bench/) ----------------------------------------
#
#   make bench     Go benchmarks, Lambda bundle sizes, init times, workflow
#                  cost, the approval call's time (300 and 500 numbers) and
#                  the 1,000-number throughput on the emulator, the last two
#                  also beside a CPU hog (one busy process per CPU, killed at
#                  the end); rewrites BENCHMARKS.md (about half an hour).
#                  `go run ./bench -only <steps>` runs some steps alone.

.PHONY: bench

bench: deps ## measure (Go benchmarks, bundle sizes, init time, workflow cost and AWS calls per release, approval-call time, 1,000-number throughput alone and beside a CPU hog; about 30 min) and rewrite BENCHMARKS.md
	$(GO) run ./bench -out BENCHMARKS.md
