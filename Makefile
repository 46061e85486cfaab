# Entitle: the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BIN       := bin
RUNDIR    := run
PKGS      := ./...
# The version every program and package carries (installer/version.sh): a
# release tag as is (v1.2.3 -> 1.2.3), anything else 0.0.0-dev.g<commit>.
# `make package VERSION=v1.2.3` or `VERSION=1.2.3 make package` sets it.
VERSION   ?=
VERSION_STAMP := $(shell ./installer/version.sh $(VERSION))
LDFLAGS   := -s -w -X github.com/entitle/entitle/pkg/version.Version=$(VERSION_STAMP)

.PHONY: all build run test test-unit bench lint fmt package clean cross

all: build

build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./agent/cmd/entitle ./server/cmd/entitle-server ./tray/cmd/entitle-tray

# Runs the system on its embedded defaults (server + agent on loopback, SQLite).
run: build
	./scripts/run-demo.sh

# Everything: vet, unit and race tests, end-to-end tests, both databases.
# Uses $$ENTITLE_TEST_POSTGRES_URL when set, otherwise starts a local cluster.
test:
	$(GO) vet ./...
	@url="$$ENTITLE_TEST_POSTGRES_URL"; \
	if [ -z "$$url" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then url=$$(.ci/postgres.sh start); fi; \
	ENTITLE_TEST_POSTGRES_URL="$$url" $(GO) test -race -count=1 -timeout 15m $(PKGS)

bench:
	./scripts/bench.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

cross:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./agent/... ./server/... ./tray/... ./pkg/...
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./agent/... ./server/... ./pkg/...

# Linux .deb/.rpm (agent + tray, server), the Windows MSI and the Linux tarball
# into dist/; installer/build.sh builds its own release binaries for each OS.
# A vendor builds for its own server:
#   make package SERVER_URL=https://licensing.example.com PINNED_KEYS=key1,key2
# (written into every package's agent.toml; see docs/install.md).
SERVER_URL  ?=
PINNED_KEYS ?=
package:
	VERSION='$(VERSION_STAMP)' SERVER_URL='$(SERVER_URL)' PINNED_KEYS='$(PINNED_KEYS)' ./installer/build.sh

clean:
	rm -rf $(BIN) $(RUNDIR) dist
