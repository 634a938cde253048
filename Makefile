# `make test` is the one command that passes the tests on a fresh Debian
# machine: it installs and starts the servers the integration tests need.
.PHONY: test unit quickstart bench lint

test:
	bash scripts/test.sh

# Unit tests only, no servers (integration tests skip unless CI=true).
unit:
	go test -race ./...

lint:
	gofmt -l . && go vet ./...

quickstart:
	go run ./examples/quickstart

bench:
	go test -run '^$$' -bench . -benchmem ./...
