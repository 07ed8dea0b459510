# Byte Points. `make demo` runs the worked example; `make test` runs the tests.
# Everything needed is fetched by Go itself (go.mod) or installed below into
# ./build/tools: nothing has to be installed by hand.

GO        ?= go
BIN       := build/bytepointsd
TOOLS     := $(CURDIR)/build/tools
BUF       := $(TOOLS)/buf
GOCOSMOS  := $(TOOLS)/protoc-gen-gocosmos
PKGS      := ./...
# Multi-process network suites (issue: seller network) live behind this tag.
NETTAGS   := network

.PHONY: all build install browser postgres demo test test-readme test-network test-arm64 test-race fuzz bench bench-network proto proto-check lint localnet localnet-stop clean help bench-compare

all: build

help:
	@echo "make demo          build and run the worked example (two sellers, in-process)"
	@echo "make test          unit, app, ABCI, in-process node, crash and CLI tests"
	@echo "make test-readme   run the README's examples as written (a 4-seller testnet on loopback, a few minutes)"
	@echo "make install       install bytepointsd into \$$(go env GOPATH)/bin (or GOBIN)"
	@echo "make browser       install Debian's chromium for the audit page's browser test (if missing)"
	@echo "make postgres      install Debian's postgresql for the back-office tests (if missing)"
	@echo "make fuzz          each fuzz target for FUZZTIME (default 30s; make test runs their corpora)"
	@echo "make test-network  multi-validator suites with real node processes (slower)"
	@echo "make test-arm64    golden app hash, CRMS and store tests built for arm64, run under qemu"
	@echo "make bench         benchmarks, figures as ratios against in-run baselines (~15 min)"
	@echo "make bench-network 4 validators: Byte Points against CometBFT's kvstore, TCP and libp2p (~15 min)"
	@echo "make localnet      start 4 sellers as separate processes; make localnet-stop"
	@echo "make proto         regenerate types/*.pb.go from proto/ (installs its tools)"

build: $(BIN)

$(BIN): $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
	$(GO) build -trimpath -o $(BIN) ./cmd/bytepointsd

# bytepointsd on PATH: go install puts it in GOBIN, else $(go env GOPATH)/bin.
install:
	$(GO) install -trimpath ./cmd/bytepointsd
	@d=$$($(GO) env GOBIN); [ -n "$$d" ] || d=$$($(GO) env GOPATH)/bin; \
	echo "installed $$d/bytepointsd"; \
	case ":$$PATH:" in *":$$d:"*) ;; *) echo "$$d is not on PATH: export PATH=$$d:\$$PATH";; esac

demo: build
	./$(BIN) demo

# The audit page's browser test (node/auditpage) drives a headless Chromium;
# without one it skips. This installs Debian's package when it is missing
# (root, or sudo), and does nothing when it is there.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then echo "chromium: $(CHROMIUM)"; \
	else \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing Debian's chromium (for the audit page's browser test)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null && \
	  test -x "$(CHROMIUM)"; \
	fi

# The back-office tests (node/backoffice, report sales) start their own
# PostgreSQL server (internal/pgtest); without one they skip. This installs
# Debian's server when no /usr/lib/postgresql/*/bin/initdb is there.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then echo "postgresql: $$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)"; \
	else \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing Debian's postgresql (for the back-office tests)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null; \
	fi

test: build
	$(GO) vet $(PKGS)
	BYTEPOINTSD=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m $(PKGS)

# The README's examples, run as written (internal/readmetest, tag readme).
test-readme: build
	@command -v jq >/dev/null && command -v curl >/dev/null || { \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing Debian's jq and curl (the README's examples use them)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq jq curl >/dev/null; }
	BYTEPOINTSD=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 12m -tags readme ./internal/readmetest/

test-network: build
	BYTEPOINTSD=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 40m -tags $(NETTAGS) -run 'Network' -v ./networks/...
	BYTEPOINTSD=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m -tags $(NETTAGS) -run 'NodeCrash' -v ./node/backoffice/

# Validators on other CPUs must reach the same app hash: the golden app-hash
# script, the fixed-point CRMS and the store, cross-built for arm64 and run
# under Debian's qemu-user-static (installed here when missing).
QEMU_ARM64 ?= /usr/bin/qemu-aarch64-static
test-arm64:
	@if [ ! -x "$(QEMU_ARM64)" ]; then \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "installing Debian's qemu-user-static (for the arm64 tests)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq qemu-user-static >/dev/null; \
	fi
	GOARCH=arm64 $(GO) test -count=1 -timeout 20m -exec $(QEMU_ARM64) ./app/crms/ ./app/store/
	GOARCH=arm64 $(GO) test -count=1 -timeout 20m -exec $(QEMU_ARM64) -run 'Golden' ./app/apptest/

test-race:
	$(GO) test -race -count=1 -timeout 30m ./app/... ./abci/... ./node/...

# The fuzz targets (docs/fuzzing.md), as package:name. `make test` runs
# their seed corpora (f.Add and testdata/fuzz/); `make fuzz` fuzzes each in
# turn for FUZZTIME. FUZZFLAGS adds go test flags (e.g. -parallel 1).
FUZZTIME  ?= 30s
FUZZFLAGS ?=
FUZZ_TARGETS := ./types/:FuzzRupees ./app/apptest/:FuzzTxDecode ./abci/:FuzzBlocks ./abci/:FuzzProof ./node/:FuzzGatewayRoutes

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "== $$name in $$pkg for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$pkg; \
	done

bench: build
	@mkdir -p build
	$(GO) test -run '^$$' -bench . -benchtime 20x ./app/store/ | tee build/bench.txt
	BYTEPOINTS_BENCH_CUSTOMERS=1000000 $(GO) test -run '^$$' -bench 'BlockApply|CheckTx' -benchtime 5x -timeout 60m ./app/apptest/ | tee -a build/bench.txt
	$(GO) test -run '^$$' -bench . -benchmem ./app/crms/ | tee -a build/bench.txt
	$(GO) test -run '^$$' -bench CRMS -benchtime 2000x ./node/ | tee -a build/bench.txt
	$(GO) test -run '^$$' -bench 'PublishedYear|Simulate' -benchtime 1x ./sim/ | tee -a build/bench.txt
	@echo "figures: build/bench.txt (ratios x_* are against baselines measured in the same run)"

# Block apply and CheckTx of this tree against BASE (a git revision),
# interleaved in one run (base, head, base, head, ...) so that both meet the
# same machine; benchstat prints each figure's change with its spread.
# CheckTx runs 5,000 checks (b.N) so that a base from before it honoured
# b.N (a fixed 5,000) measures the same work.
#   make bench-compare BASE=66476de [ROUNDS=3]
BASE ?= HEAD~1
ROUNDS ?= 3
BENCHSTAT = golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench-compare:
	@mkdir -p build
	rm -rf build/bench-base-tree && git worktree add --detach build/bench-base-tree $(BASE)
	cd build/bench-base-tree && $(GO) test -c -o ../apptest.base.test ./app/apptest/
	git worktree remove --force build/bench-base-tree
	$(GO) test -c -o build/apptest.head.test ./app/apptest/
	rm -f build/bench-base.txt build/bench-head.txt
	for i in $$(seq $(ROUNDS)); do for v in base head; do \
	  (cd app/apptest && ../../build/apptest.$$v.test -test.run '^$$' -test.bench 'BlockApply' -test.benchtime 3x && \
	   ../../build/apptest.$$v.test -test.run '^$$' -test.bench 'CheckTx' -test.benchtime 5000x) | tee -a build/bench-$$v.txt; \
	done; done
	$(GO) run $(BENCHSTAT) build/bench-base.txt build/bench-head.txt | tee build/bench-compare.txt

# CometBFT's own binary, at the version go.mod pins, for the kvstore baseline.
build/cometbft: go.mod go.sum
	$(GO) build -trimpath -o build/cometbft github.com/cometbft/cometbft/cmd/cometbft

# The network benchmark: kvstore and Byte Points interleaved on the same
# homes, TCP and libp2p; the table goes to stdout and docs/benchmarks.md.
bench-network: build build/cometbft
	$(GO) run ./networks/benchnet --cometbft build/cometbft --bytepointsd $(BIN) --out docs/benchmarks.md

$(BUF):
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@v1.75.0

$(GOCOSMOS):
	GOBIN=$(TOOLS) $(GO) install github.com/cosmos/gogoproto/protoc-gen-gocosmos@v1.7.2

proto: $(BUF) $(GOCOSMOS)
	rm -rf build/_gen
	PATH=$(TOOLS):$$PATH $(BUF) generate --template buf.gen.yaml
	cp build/_gen/bytepoints/v1/*.pb.go types/
	$(GO) build ./types/

# Fails when the committed generated code is stale.
proto-check: proto
	git diff --exit-code -- types/

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

localnet: build
	./networks/local/start.sh

localnet-stop:
	./networks/local/stop.sh

clean:
	rm -rf build/bytepointsd build/_gen build/bench.txt localnet
