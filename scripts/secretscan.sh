#!/usr/bin/env bash
# Scans the output of a test run (go test -v, logs and errors included)
# for the secrets the tests use, and fails when one appears: a secret that
# reaches a log line or an error message leaks in production too.
#
# The secrets are: the passwords of the test servers (IDBRIDGE_*_PASSWORD,
# as the scripts in scripts/servers print them), every string literal of 8
# characters or more given to connector.NewSecret or graphsync.StaticToken
# in a test file, every literal starting "Sekr1t-" in a test file (name the
# test secrets of new tests so), and the Graph emulator's test token. Usage:
#   bash scripts/secretscan.sh test-output.log
set -euo pipefail
cd "$(dirname "$0")/.."
log=$1

secrets=()
while IFS='=' read -r key value; do
  case "$key" in IDBRIDGE_*_PASSWORD) secrets+=("$value");; esac
done < <(env)
while IFS= read -r s; do secrets+=("$s"); done < <(
  git ls-files '*_test.go' | xargs grep -ohE '(NewSecret|StaticToken)\("[^"\\]{8,}"\)' |
    sed -E 's/^[A-Za-z]+\("(.*)"\)$/\1/' | sort -u)
while IFS= read -r s; do secrets+=("$s"); done < <(
  git ls-files '*_test.go' | xargs grep -ohE '"Sekr1t-[^"\]*"' | tr -d '"' | sort -u)
secrets+=("test-token")

found=0
for s in "${secrets[@]}"; do
  if [ ${#s} -lt 8 ]; then
    echo "secretscan: a test secret of ${#s} characters is too short to scan for; give it a distinctive value" >&2
    continue
  fi
  if n=$(grep -cF -- "$s" "$log"); then
    echo "secretscan: a test secret (${#s} characters, starting ${s:0:2}…) appears in $n line(s) of the test output:" >&2
    grep -nF -- "$s" "$log" | sed "s/$(printf '%s' "$s" | sed 's/[][\.*^$/&]/\\&/g')/[SECRET]/g" | head -5 >&2
    found=1
  fi
done
if [ $found -ne 0 ]; then exit 1; fi
echo "secretscan: none of ${#secrets[@]} test secrets appears in $(wc -l <"$log") lines of test output"
