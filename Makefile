# Lango: `make run` starts the demo kiosk; `make test` runs every test.
# Both install missing system packages first (Debian/Ubuntu).

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
BIN       := bin
DEMO_DATA ?= $(CURDIR)/.data/demo

# System packages: cgo and X11/GL headers for Fyne, zbar-tools (the QR
# decoder the printer tests read passes with), socat, Xvfb for screenshots,
# fakeroot (TestPackage's install into a scratch root when not run as root).
DEB_PACKAGES := gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev \
	libxinerama-dev libxi-dev libxxf86vm-dev libxkbcommon-dev zbar-tools socat xvfb xauth curl fakeroot

# PostgreSQL for the hub's tests, which start a throwaway cluster with its
# initdb and pg_ctl (internal/pgtest): Debian's postgresql package, when
# neither PATH nor /usr/lib/postgresql/*/bin has initdb. LANGO_TEST_DATABASE
# (a postgres:// URL where the tests may create databases) uses a server
# of your own instead.
PG_PACKAGES := $(if $(shell command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null),,postgresql)

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: deps
deps: ## install missing system packages (apt-get as root, else print the command)
	@sh scripts/deps.sh $(DEB_PACKAGES) $(PG_PACKAGES)

.PHONY: build
build: deps ## build bin/lango (headless), bin/lango-kiosk, bin/lango-hub and bin/lango-platform, the version stamped
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...
	mv $(BIN)/lango $(BIN)/lango-kiosk
	CGO_ENABLED=0 $(GO) build -tags headless -ldflags '$(LDFLAGS)' -o $(BIN)/lango ./cmd/lango

.PHONY: package
package: build ## dist/lango_VERSION_ARCH.deb: the binaries, systemd units (sync, hub, relay, kiosk), /var/lib/lango
	BIN=$(BIN) VERSION=$(VERSION) sh scripts/package.sh

.PHONY: package-check
package-check: package ## apt install the .deb into a fresh Debian (debootstrap, as root) and check it
	@sh scripts/deps.sh debootstrap
	sh scripts/package-check.sh

.PHONY: run
run: build ## start the demo kiosk: KWS catalogue, printer emulator, a local hub, the stand-in national platform
	BIN=$(BIN) sh scripts/demo.sh $(DEMO_DATA)

.PHONY: test
test: deps ## go vet, then every test with the race detector
	@echo "go vet ./... (a first run compiles Fyne's C parts: minutes without output)"
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

.PHONY: bench
bench: ## the benchmarks of docs/BENCHMARKS.md
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./terminal/sqlite/ ./terminal/pass/ ./printer/ ./sync/...

.PHONY: clean
clean: ## remove build output and the demo data
	rm -rf $(BIN) .data
