#!/usr/bin/env bash
# govulncheck against the Go vulnerability database. `make vuln` runs it.
#
# When vuln.go.dev is unreachable (a build machine that reaches only the Go
# module proxy), VULNDB=offline builds a local copy of the database from
# the golang.org/x/vulndb module, which the module proxy serves: its
# data/osv directory holds every OSV entry, and its cmd/indexdb writes the
# index files govulncheck reads with -db file://. The copy is as recent as
# the module's latest commit (VULNDB_VERSION, default latest).
set -euo pipefail
cd "$(dirname "$0")/.."
GOVULNCHECK=${GOVULNCHECK:-$(go env GOPATH)/bin/govulncheck}
if [ ! -x "$GOVULNCHECK" ]; then
  go install golang.org/x/vuln/cmd/govulncheck@latest
fi

db=()
if [ "${VULNDB:-online}" = "offline" ]; then
  version=${VULNDB_VERSION:-latest}
  dir=$(go mod download -json "golang.org/x/vulndb@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  resolved=$(basename "$dir"); resolved=${resolved#*@}
  out=${VULNDB_DIR:-${TMPDIR:-/tmp}/idbridge-vulndb-$resolved}
  if [ ! -f "$out/index/db.json" ]; then
    rm -rf "$out"
    go run "golang.org/x/vulndb/cmd/indexdb@$resolved" -vulns "$dir/data/osv" -out "$out"
  fi
  echo "offline vulnerability database: golang.org/x/vulndb@$resolved ($(ls "$out/ID" | grep -c '\.json$') entries)"
  db=(-db "file://$out")
fi
"$GOVULNCHECK" "${db[@]}" ./...
