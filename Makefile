# `make test` is the one command that passes the tests on a fresh Debian
# machine: it installs and starts the servers the integration tests need.
.PHONY: test unit quickstart bench bench-full gobench lint fuzz vuln vuln-offline

test:
	bash scripts/test.sh

# Unit tests only, no servers (integration tests skip unless CI=true).
unit:
	go test -race ./...

lint:
	gofmt -l . && go vet ./...

quickstart:
	go run ./examples/quickstart

# The end-to-end benchmark harness (bench/README.md): a short run at N = 10k,
# and the whole set at 10k, 100k and 1M. Both start slapd themselves, and
# append their table to $(BENCH_OUT), outside the repository unless set:
# make bench BENCH_OUT=bench/RESULTS.md records a run in the repository.
BENCH_OUT ?= $(or $(TMPDIR),/tmp)/idbridge-bench/RESULTS.md
export BENCH_OUT
bench:
	bash scripts/bench.sh -n 10000 -runs 3

bench-full:
	bash scripts/bench.sh -full -runs 3

# The packages' own Go benchmarks.
gobench:
	go test -run '^$$' -bench . -benchmem ./...

# Every fuzz target for FUZZTIME each (default 30s): make fuzz FUZZTIME=5m.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# govulncheck against vuln.go.dev; vuln-offline builds the database from
# the golang.org/x/vulndb module (through the module proxy) instead.
vuln:
	bash scripts/vuln.sh

vuln-offline:
	VULNDB=offline bash scripts/vuln.sh
