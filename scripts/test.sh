#!/usr/bin/env bash
# The whole test run behind `make test`: format and static checks, then the
# real servers the integration tests need, and the headless Chromium of the
# admin pages' browser test (each scripts/servers/*.sh installs
# its server with apt when missing, starts it on 127.0.0.1 in a temporary
# directory and prints KEY=value lines that the tests read), then every test
# under -race, a scan of the tests' output for the test secrets, a brief
# run of every fuzz target, then the servers are stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tmp/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

say "go vet"
go vet ./...

say "staticcheck"
STATICCHECK=${STATICCHECK:-$(go env GOPATH)/bin/staticcheck}
if [ ! -x "$STATICCHECK" ]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
"$STATICCHECK" ./...

say "examples build"
go build ./examples/...

# Real servers. Each script prints the environment the tests need.
work=$(mktemp -d /tmp/idbridge-test.XXXXXX)
started=()
cleanup() {
  for s in "${started[@]}"; do
    bash "scripts/servers/$s.sh" stop "$work/$s" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for script in scripts/servers/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  say "starting $name"
  if out=$(bash "$script" start "$work/$name"); then
    started+=("$name")
    while IFS='=' read -r key value; do
      case "$key" in IDBRIDGE_*) export "$key=$value"; echo "$key is set";; esac
    done <<<"$out"
  else
    echo "$name failed to start:"; echo "$out"
    if [ "${CI:-}" = "true" ]; then exit 1; fi
  fi
done

say "go test -race"
# -v so that every log line and error the tests print is in the output the
# secret scan reads.
go test -race -count=1 -v -timeout 20m ${GOTESTFLAGS:-} ./... >"$work/test.log" 2>&1 &
tester=$!
tail -n +1 -f "$work/test.log" --pid=$tester | grep -E '^(ok|FAIL|---|panic|\s+--- FAIL)' || true
if ! wait $tester; then
  echo "tests failed; their output:"; grep -v -E '^(=== (RUN|PAUSE|CONT)|--- PASS|PASS$)' "$work/test.log" | tail -n 300
  exit 1
fi

say "secret scan"
bash scripts/secretscan.sh "$work/test.log"

say "fuzz (${FUZZTIME:=2s} per target)"
FUZZTIME=$FUZZTIME FUZZSKIP=${FUZZSKIP-^\./graphsync} bash scripts/fuzz.sh
