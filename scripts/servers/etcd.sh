#!/usr/bin/env bash
# etcd for the ha/etcdelector integration tests.
#
#   bash scripts/servers/etcd.sh start DIR   # prints IDBRIDGE_ETCD_ENDPOINTS=…
#   bash scripts/servers/etcd.sh stop DIR
#
# start installs Debian's etcd-server when missing (without letting the
# package start its own daemon), starts a single-member etcd on 127.0.0.1
# on two free ports (client, peer) with its data in DIR, and waits until it
# answers. Tests get the endpoints through
# testenv.Get(t, "IDBRIDGE_ETCD_ENDPOINTS", "etcd").
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
ETCD=${ETCD:-/usr/bin/etcd}
log() { echo "etcd.sh: $*" >&2; }

install_etcd() {
  [ -x "$ETCD" ] && return 0
  [ "$(id -u)" = 0 ] || { log "etcd-server is not installed and we are not root"; exit 1; }
  local created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Keep the package from starting a daemon of its own.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y etcd-server >&2; then
    apt-get update >&2
    apt-get install -y etcd-server >&2
  fi
  [ -n "$created_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ -x "$ETCD" ] || { log "no $ETCD after installing etcd-server"; exit 1; }
}

free_port() {
  local p
  for p in $(seq "$1" "$(($1 + 100))"); do
    if ! (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then
      echo "$p"; return 0
    fi
  done
  log "no free port from $1"; exit 1
}

# health prints etcd's /health answer (bash's /dev/tcp: no curl needed).
health() {
  ( exec 3<>/dev/tcp/127.0.0.1/"$1" && printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && timeout 2 cat <&3 ) 2>/dev/null || true
}

case "$cmd" in
start)
  install_etcd
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  client=$(free_port "${ETCD_PORT_FIRST:-23790}")
  peer=$(free_port $((client + 1)))
  nohup "$ETCD" --name idbridge-test --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "idbridge-test=http://127.0.0.1:$peer" \
    >"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 120); do
    if health "$client" | grep -q '"health":"true"'; then
      echo "IDBRIDGE_ETCD_ENDPOINTS=http://127.0.0.1:$client"
      exit 0
    fi
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/etcd.log" >&2; exit 1; }
    sleep 0.5
  done
  log "etcd did not become healthy"; cat "$dir/etcd.log" >&2; exit 1
  ;;
stop)
  if [ -s "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
  rm -rf "$dir/data"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2
  ;;
esac
