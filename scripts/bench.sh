#!/usr/bin/env bash
# The benchmark run behind `make bench` (N = 10k) and `make bench-full`
# (N = 10k, 100k, 1M): starts the servers the scenarios use (each
# scripts/servers/*.sh they need installs its Debian packages when missing
# and starts on 127.0.0.1), runs the harness with the arguments given, and
# stops the servers. The table is printed and appended to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  if out=$(bash "$script" start "$work/$name"); then
    started+=("$name")
    while IFS='=' read -r key value; do
      case "$key" in IDBRIDGE_*) export "$key=$value";; esac
    done <<<"$out"
  else
    echo "bench: $name failed to start:"; echo "$out"; exit 1
  fi
done

go build -o "$work/bench" ./bench
"$work/bench" -out bench/RESULTS.md "$@"
