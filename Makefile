# Number Release — build, test and run. GNU make.
#
#   make test                                  every check and every test
#   make test PKG=./shared/store TEST_FLAGS='-run TestX -v'
#   make build                                 Lambda bundles in build/<name>/bootstrap
#
# The AWS emulator (moto in server mode, see EMULATOR.md) is installed into a
# project-local virtualenv; nothing is taken from the machine beyond python3.

MOTO_VERSION := 5.2.5
VENV         := .venv
GO           ?= go
GOFMT        ?= $(shell $(GO) env GOROOT)/bin/gofmt
PYTHON       ?= python3
PKG          ?= ./...
TEST_FLAGS   ?=

# The emulator package finds moto_server here (shared/emulator).
MOTO_SERVER  ?= $(abspath $(VENV))/bin/moto_server
export MOTO_SERVER

MOTO_STAMP   := $(VENV)/.installed-$(MOTO_VERSION)

# The CDK (infra tests, synth) runs its jsii kernel on Node.js; Node 20 works
# but is past the versions jsii lists, which it would print on every run.
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1

# Run as root (CI) or through sudo when installing Debian packages.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help deps emulator node test vet fmt-check build run clean

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

test: deps vet fmt-check ## vet, gofmt check, then go test (PKG, TEST_FLAGS)
	$(GO) test -count=1 $(TEST_FLAGS) $(PKG)

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

run: deps ## run the whole system locally on :8080 (PORT) — emulator, API, workflow, Zoom simulator, demo data
	$(GO) run ./local

clean: ## remove build output and the virtualenv
	rm -rf build $(VENV) $(CDK_CLI) cdk.out

# ---- AWS CDK (infra/): synthesize and deploy --------------------------------
#
#   make synth [STAGE=prod] [BUILD_DIR=/abs/bundles]   template in cdk.out/
#   make deploy STAGE=dev JWT_ISSUER=https://issuer.example/ \
#       JWT_AUDIENCE=number-release JWKS_URL=https://issuer.example/.well-known/jwks.json
#       [ZOOM_API_BASE=... ZOOM_OAUTH_URL=... RECHECK_SECONDS=... MAX_WAIT_SECONDS=...]
#
# deploy uses the AWS credentials of the environment and an account/region
# bootstrapped once with `npx cdk bootstrap`. After the first deploy, store the
# Zoom credentials in the secret named by the ZoomSecretArn output.

STAGE   ?= dev
CDK_OUT ?= cdk.out
# The pinned CDK CLI (infra/cdk-cli/package.json) is installed into .cdk-cli/,
# a dot directory, because `go ... ./...` would read the Go files inside
# node_modules anywhere else in the tree.
CDK_CLI := .cdk-cli
CDK     := $(CDK_CLI)/node_modules/.bin/cdk
DEPLOY_PARAMS := JWT_ISSUER JWT_AUDIENCE JWKS_URL
# Optional parameters; unset ones keep their stack value (or default).
DEPLOY_OPTIONAL = $(strip \
	$(if $(ZOOM_API_BASE),--parameters 'ZoomApiBase=$(ZOOM_API_BASE)') \
	$(if $(ZOOM_OAUTH_URL),--parameters 'ZoomOAuthUrl=$(ZOOM_OAUTH_URL)') \
	$(if $(RECHECK_SECONDS),--parameters 'RecheckSeconds=$(RECHECK_SECONDS)') \
	$(if $(MAX_WAIT_SECONDS),--parameters 'MaxWaitSeconds=$(MAX_WAIT_SECONDS)'))

.PHONY: synth deploy

# Checked when make reads the Makefile, so a deploy without them stops before
# building anything.
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
DEPLOY_MISSING := $(strip $(foreach v,$(DEPLOY_PARAMS),$(if $(strip $($(v))),,$(v))))
ifneq ($(DEPLOY_MISSING),)
$(error deploy needs $(DEPLOY_MISSING): make deploy STAGE=$(STAGE) JWT_ISSUER=<exact iss> JWT_AUDIENCE=<aud> JWKS_URL=<issuer JWKS URL>)
endif
endif

# Runs the Go app as the CDK CLI would (CDK_OUTDIR, and cdk.json's context in
# CDK_CONTEXT_JSON, plus stage and buildDir), without needing the CLI.
synth: build ## write the CloudFormation template to cdk.out/ (STAGE, BUILD_DIR)
	@ctx=$$(STAGE='$(STAGE)' BUILD_DIR='$(BUILD_DIR)' node -e ' \
		const c = require("./cdk.json").context || {}; \
		if (process.env.STAGE) c.stage = process.env.STAGE; \
		if (process.env.BUILD_DIR) c.buildDir = process.env.BUILD_DIR; \
		process.stdout.write(JSON.stringify(c));') && \
	CDK_OUTDIR='$(abspath $(CDK_OUT))' CDK_CONTEXT_JSON="$$ctx" $(GO) run ./infra
	@echo "template: $(CDK_OUT)/NumberRelease-$(STAGE).template.json"

deploy: build $(CDK) ## deploy NumberRelease-STAGE (JWT_ISSUER, JWT_AUDIENCE, JWKS_URL required)
	$(CDK) deploy --require-approval broadening -c stage=$(STAGE) \
		--outputs-file '$(CDK_OUT)/outputs-$(STAGE).json' \
		--parameters 'JwtIssuer=$(JWT_ISSUER)' \
		--parameters 'JwtAudience=$(JWT_AUDIENCE)' \
		--parameters 'JwksUrl=$(JWKS_URL)' $(DEPLOY_OPTIONAL)

$(CDK): infra/cdk-cli/package.json infra/cdk-cli/package-lock.json | node
	@command -v npm >/dev/null || { echo "npm is missing: install it (Debian: apt-get install npm)" >&2; exit 1; }
	mkdir -p $(CDK_CLI) && cp infra/cdk-cli/package.json infra/cdk-cli/package-lock.json $(CDK_CLI)/
	cd $(CDK_CLI) && npm ci --no-audit --no-fund
	@touch $@
