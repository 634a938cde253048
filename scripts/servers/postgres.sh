#!/usr/bin/env bash
# PostgreSQL for the pgstore integration tests.
#
#   bash scripts/servers/postgres.sh start DIR   # prints IDBRIDGE_PG_DSN=…
#   bash scripts/servers/postgres.sh stop DIR
#
# start installs Debian's postgresql when missing (without letting the
# package start its own cluster), creates a cluster in DIR owned by the
# postgres user, starts it on 127.0.0.1 on a free port with fsync on, and
# creates the database idbridge. Tests get the DSN through
# testenv.Get(t, "IDBRIDGE_PG_DSN", "PostgreSQL"). PGPORT_FIRST is the first
# port tried; on any failure after the server started, start stops it.
set -euo pipefail
. "$(dirname "$0")/ports.sh"

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
log() { echo "postgres.sh: $*" >&2; }

# as_pg runs a command as the postgres user (initdb and postgres refuse root).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install_pg() {
  [ -x "$PGBIN/postgres" ] && return 0
  [ "$(id -u)" = 0 ] || { log "postgresql is not installed and we are not root"; exit 1; }
  local created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Keep the package from starting a cluster or a daemon of its own.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y postgresql >&2; then
    apt-get update >&2
    apt-get install -y postgresql >&2
  fi
  [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ -x "$PGBIN/postgres" ] || { log "no $PGBIN/postgres after installing postgresql"; exit 1; }
}

free_port() {
  local p
  for p in $(seq "${PGPORT_FIRST:-54329}" 54429); do
    if ! (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  log "no free port in 54329-54429"; exit 1
}

case "$cmd" in
start)
  install_pg
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chown postgres: "$dir" 2>/dev/null || true
  if as_pg test -w "$dir" -a -x "$dir"; then
    data="$dir/data"; sock="$dir"
  else
    # A parent of DIR (mktemp -d makes it 0700) keeps the postgres user
    # out: keep the cluster in a directory of its own, named in DIR.
    data=$(mktemp -d /tmp/idbridge-pgdata.XXXXXX)
    chown postgres: "$data"; chmod 700 "$data"
    echo "$data" >"$dir/datadir"
    sock="$data"; data="$data/data"
  fi
  if [ ! -s "$data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  port=$(free_port)
  require_free_ports postgres.sh "$port"
  # Sockets in DIR: /var/run/postgresql may not exist without the package's cluster.
  as_pg "$PGBIN/pg_ctl" -D "$data" -l "$sock/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c fsync=on -c max_connections=200" start >&2 \
    || { cat "$sock/postgres.log" >&2; exit 1; }
  trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed; stopping the server it launched"; as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >&2 || true; fi' EXIT
  echo "$port" >"$dir/port"
  for _ in $(seq 1 60); do
    as_pg "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
  done
  as_pg "$PGBIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "SELECT 1 FROM pg_database WHERE datname='idbridge'" -tA | grep -q 1 \
    || as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres idbridge
  echo "IDBRIDGE_PG_DSN=postgres://postgres@127.0.0.1:$port/idbridge?sslmode=disable"
  trap - EXIT
  ;;
stop)
  data="$dir/data"; extra=
  if [ -s "$dir/datadir" ]; then extra=$(cat "$dir/datadir"); data="$extra/data"; fi
  if [ -d "$data" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w stop >&2 || true
  fi
  case "$extra" in /tmp/idbridge-pgdata.*) rm -rf "$extra";; esac
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2
  ;;
esac
