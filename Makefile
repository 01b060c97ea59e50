# Kontor developer tasks. `make test` is what CI runs (through .ci/run).

GO = go

.PHONY: all build test deps vet bench

all: build

build:
	$(GO) build -o bin/kontor ./cmd/kontor

# Installs the daemons the integration tests need, then runs every test with
# KONTOR_INTEGRATION=1: tests needing a missing daemon fail instead of skipping.
test: deps vet
	KONTOR_INTEGRATION=1 $(GO) test -count=1 -p 2 -timeout 25m ./...

deps:
	bash scripts/test-deps.sh

vet:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l reports unformatted files:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
