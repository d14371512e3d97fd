# The README's two commands are `go test ./...` and `make up`.
STACK ?= dev
# State lives in a local file backend by default, without touching the user's global `pulumi login`.
STATE_DIR ?= $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
PLUGIN_PKG := ./dynamic/cmd/pulumi-resource-odaa
# The engine wants a semantic version; the commit goes into its build metadata.
VERSION ?= 0.1.0+$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X github.com/odaa-platform/adbs-hsm/dynamic/hsm.version=$(VERSION)

.PHONY: test lint plugin stack up preview

test:
	go test ./...

lint:
	go tool golangci-lint run ./...

# The provider plugin serves the odaa resources; Pulumi.yaml points the engine at ./bin. odaa-sd is the
# security-domain tool (quorum proof, restore into a new HSM).
plugin:
	go build -ldflags "$(LDFLAGS)" -o bin/pulumi-resource-odaa $(PLUGIN_PKG)
	go build -ldflags "$(LDFLAGS)" -o bin/odaa-sd ./dynamic/cmd/odaa-sd

# Creates the stack in the local backend; secrets are encrypted with PULUMI_CONFIG_PASSPHRASE.
stack:
	@command -v pulumi >/dev/null || { echo "the Pulumi CLI is not on PATH: install it (v3.277.0) first" >&2; exit 1; }
	@test -n "$$PULUMI_CONFIG_PASSPHRASE" || { echo "set PULUMI_CONFIG_PASSPHRASE first" >&2; exit 1; }
	mkdir -p $(STATE_DIR)
	pulumi stack select --create --secrets-provider passphrase $(STACK)

up: plugin stack
	pulumi up --stack $(STACK)

preview: plugin stack
	pulumi preview --diff --stack $(STACK)

# Checks the deployed stack the way the scenario guide's Tests 1–6 do, and prints a pass/fail table (exit 1 on
# a failure). Run it inside the VNet or a peered network; VERIFY_FLAGS=--rotate also creates a key version,
# VERIFY_FLAGS='--sd-key a.pem --sd-key b.pem' names the security-domain keys.
.PHONY: verify
verify:
	@command -v pulumi >/dev/null || { echo "the Pulumi CLI is not on PATH: install it (v3.277.0) first" >&2; exit 1; }
	go run ./dynamic/cmd/odaa-verify --stack $(STACK) $(VERIFY_FLAGS)

# The Pulumi CLI pinned by tools/pulumi/go.mod, built once into .cache/bin and reused (version checked).
PULUMI_CLI := $(CURDIR)/.cache/bin/pulumi
.PHONY: cli
cli:
	tools/pulumi/build.sh $(PULUMI_CLI)

# Rehearses up, an idle second up, preview --diff after a tag change, and destroy under the real engine with
# stand-in clouds and no account (tests/rehearsal). REHEARSE_FLAGS=-verbose prints the engine's output.
.PHONY: rehearse
rehearse: cli
	go run ./tests/rehearsal/cmd/rehearse -cli $(PULUMI_CLI) -stack $(STACK) $(REHEARSE_FLAGS)

# Serves the fake Managed HSM on 127.0.0.1 until interrupted and writes .cache/fakehsm/env, the variables that
# point pulumi-resource-odaa at it (ODAA_HSM_ENDPOINT, ODAA_HSM_CA_FILE, ODAA_HSM_TOKEN_FILE).
.PHONY: fakehsm
fakehsm:
	go run ./dynamic/cmd/odaa-fakehsm -dir .cache/fakehsm $(FAKEHSM_FLAGS)
