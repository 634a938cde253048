#!/usr/bin/env bash
# The benchmark run behind `make bench` (N = 10k) and `make bench-full`
# (N = 10k, 100k, 1M): starts the servers the scenarios use (each
# scripts/servers/*.sh they need installs its Debian packages when missing
# and starts on 127.0.0.1), runs the harness with the arguments given, and
# stops the servers.
#
# The table is printed and appended to $BENCH_OUT, by default
# ${TMPDIR:-/tmp}/idbridge-bench/RESULTS.md, outside the repository: a run
# leaves the working tree as it was. To record a run in the repository's
# bench/RESULTS.md, ask for it: make bench BENCH_OUT=bench/RESULTS.md.
# What the server scripts print while they install and start (apt's
# output among it) goes to a log, shown only when a server fails to start.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${BENCH_OUT:-${TMPDIR:-/tmp}/idbridge-bench/RESULTS.md}
mkdir -p "$(dirname "$results")"

work=$(mktemp -d /tmp/idbridge-bench.XXXXXX)
started=()
cleanup() {
  for s in "${started[@]}"; do
    bash "scripts/servers/$s.sh" stop "$work/$s" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
for name in ${BENCH_SERVERS:-slapd}; do
  script=scripts/servers/$name.sh
  [ -e "$script" ] || { echo "bench: no $script: scenarios that need $name are skipped"; continue; }
  log="$work/$name-start.log"
  echo "bench: starting $name (installs its Debian packages when missing)"
  if out=$(bash "$script" start "$work/$name" 2>"$log"); then
    started+=("$name")
    while IFS='=' read -r key value; do
      case "$key" in IDBRIDGE_*) export "$key=$value";; esac
    done <<<"$out"
  else
    echo "bench: $name failed to start; the last lines of its log:"; tail -30 "$log"; echo "$out"; exit 1
  fi
done

go build -o "$work/bench" ./bench
"$work/bench" -out "$results" "$@"
echo "bench: table appended to $results"
