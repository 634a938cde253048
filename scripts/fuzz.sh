#!/usr/bin/env bash
# Runs every fuzz target of the module (each func FuzzX in a *_test.go
# file) for FUZZTIME each (default 30s), one after the other, and prints
# the executions each made. `make fuzz` runs it; `make test` runs it with
# FUZZTIME=2s. A failure leaves its input under the package's
# testdata/fuzz/FuzzX/ (commit it: it becomes a seed that plain go test
# replays) and stops the script.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
# FUZZSKIP: a regular expression of package directories to leave out
# (make test leaves out ./graphsync: a -fuzz build instruments
# msgraph-sdk-go too, minutes of compiling; its seeds run as plain tests).
FUZZSKIP=${FUZZSKIP:-}

git ls-files '*_test.go' 2>/dev/null | xargs grep -l '^func Fuzz' | sort | while read -r file; do
  pkg=./$(dirname "$file")
  if [ -n "$FUZZSKIP" ] && [[ "$pkg" =~ $FUZZSKIP ]]; then
    continue
  fi
  for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1) || {
      # go test -fuzz can report its own time limit, hit while a worker
      # runs an input, as "context deadline exceeded": that is no finding
      # (a finding writes its input).
      if ! grep -q 'Failing input written' <<<"$out" && grep -q 'context deadline exceeded' <<<"$out"; then
        echo "$pkg $name: stopped at the time limit mid-input (go test -fuzz reports it as a failure; no input was found)"
        continue
      fi
      echo "$out"; echo "FAIL $pkg $name"; exit 1
    }
    execs=$(grep -o 'execs: [0-9]*' <<<"$out" | tail -1)
    printf '%-45s %-28s %s\n' "$pkg" "$name" "${execs:-execs: ?}"
  done
done
