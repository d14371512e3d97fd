# The README's two commands are `go test ./...` and `make up`.
STACK ?= dev
# State lives in a local file backend by default, without touching the user's global `pulumi login`.
STATE_DIR ?= $(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL ?= file://$(STATE_DIR)
PLUGIN_PKG := ./dynamic/cmd/pulumi-resource-odaa
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: test lint plugin stack up preview

test:
	go test ./...

lint:
	go tool golangci-lint run ./...

# The provider plugin serves the odaa resources; Pulumi.yaml points the engine at ./bin.
plugin:
	@if [ ! -d $(PLUGIN_PKG) ]; then \
		echo "make plugin: $(PLUGIN_PKG) does not exist yet; the odaa resources are declared but not implemented" \
		     "(see the README's Status section), so a real deployment cannot run." >&2; \
		exit 1; \
	fi
	go build -ldflags "-X main.version=$(VERSION)" -o bin/pulumi-resource-odaa $(PLUGIN_PKG)

# Creates the stack in the local backend; secrets are encrypted with PULUMI_CONFIG_PASSPHRASE.
stack:
	@test -n "$$PULUMI_CONFIG_PASSPHRASE" || { echo "set PULUMI_CONFIG_PASSPHRASE first" >&2; exit 1; }
	mkdir -p $(STATE_DIR)
	pulumi stack select --create --secrets-provider passphrase $(STACK)

up: plugin stack
	pulumi up --stack $(STACK)

preview: plugin stack
	pulumi preview --diff --stack $(STACK)
