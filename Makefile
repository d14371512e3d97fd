# The README's two commands are `go test ./...` and `make up`.
STACK ?= dev
STATE_DIR ?= $(CURDIR)/.pulumi-state
PLUGIN_PKG := ./dynamic/cmd/pulumi-resource-odaa
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: test lint plugin up preview

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

# The main job: the local file backend is the default state store.
up: plugin
	mkdir -p $(STATE_DIR)
	pulumi login file://$(STATE_DIR)
	pulumi stack select --create $(STACK)
	pulumi up --stack $(STACK)

preview: plugin
	mkdir -p $(STATE_DIR)
	pulumi login file://$(STATE_DIR)
	pulumi stack select --create $(STACK)
	pulumi preview --diff --stack $(STACK)
