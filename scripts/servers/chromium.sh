#!/usr/bin/env bash
# Headless Chromium for the admin pages' browser test (admin/browser_test.go).
#
#   bash scripts/servers/chromium.sh start DIR   # prints IDBRIDGE_CHROMIUM=…
#   bash scripts/servers/chromium.sh stop DIR
#
# start installs Debian's chromium when missing, checks that it starts
# headless and renders a page (a profile in DIR; --no-sandbox as root, where
# Chromium refuses its sandbox), and prints its path. The test starts its
# own browser from that path through chromedp; it fails, never skips, when
# CI=true and Chromium cannot start. CHROMIUM chooses the binary.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
log() { echo "chromium.sh: $*" >&2; }

install_chromium() {
  [ -x "$CHROMIUM" ] && return 0
  [ "$(id -u)" = 0 ] || { log "chromium is not installed and we are not root"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y chromium >&2; then
    apt-get update >&2
    apt-get install -y chromium >&2
  fi
  [ -x "$CHROMIUM" ] || { log "no $CHROMIUM after installing chromium"; exit 1; }
}

case "$cmd" in
start)
  install_chromium
  mkdir -p "$dir"
  flags=(--headless --disable-gpu --user-data-dir="$dir/profile")
  [ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
  if ! out=$(timeout 60 "$CHROMIUM" "${flags[@]}" --dump-dom 'data:text/html,<p id=ok>chromium-ok</p>' 2>"$dir/chromium.log"); then
    log "chromium did not start:"; cat "$dir/chromium.log" >&2; exit 1
  fi
  case "$out" in
    *chromium-ok*) echo "IDBRIDGE_CHROMIUM=$CHROMIUM" ;;
    *) log "chromium rendered nothing:"; cat "$dir/chromium.log" >&2; exit 1 ;;
  esac
  ;;
stop)
  rm -rf "$dir/profile"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2; exit 2
  ;;
esac
