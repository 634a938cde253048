#!/usr/bin/env bash
# A Samba 4 Active Directory domain controller for the LDAP connector's
# integration tests.
#
#   bash scripts/servers/samba-ad.sh start DIR   # prints IDBRIDGE_AD_* lines
#   bash scripts/servers/samba-ad.sh stop DIR
#
# start installs Debian's samba, samba-ad-dc and ldap-utils when missing
# (no daemon is started by the packages), provisions a domain EXAMPLE.TEST
# into DIR (mdb backend, no fsync, a TLS certificate for 127.0.0.1, a
# test-friendly password policy), and starts only Samba's LDAP service on
# 127.0.0.1. Samba's ports are fixed (389/636): one DC per machine, so tests
# share it with an OU each. Needs root.
#
# start fails at once, naming the process, when something else holds 389 or
# 636, and on any failure it stops the Samba it launched.
set -euo pipefail
. "$(dirname "$0")/ports.sh"

cmd=${1:-}; DIR=${2:-}
if [ -z "$cmd" ] || [ -z "$DIR" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
DIR=$(realpath -m "$DIR")
REALM=${REALM:-EXAMPLE.TEST}
DOMAIN=${DOMAIN:-EXAMPLE}
ADMINPASS=${ADMINPASS:-Passw0rd!Test}
IP=127.0.0.1
BACKEND_STORE=${BACKEND_STORE:-mdb}
BASE="DC=$(echo "${REALM,,}" | sed 's/\./,DC=/g')"

stop() {
  [ -f "$DIR/run/samba.pid" ] || return 0
  local p; p=$(cat "$DIR/run/samba.pid")
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/run/samba.pid"
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
# 0. the ports: free, or held by the DC of this DIR, which step 2 stops
own=
if [ -f "$DIR/run/samba.pid" ] && kill -0 "$(cat "$DIR/run/samba.pid")" 2>/dev/null; then own=1; fi
[ -n "$own" ] || require_free_ports samba-ad.sh 389 636
[ "$(id -u)" = 0 ] || { echo "samba-ad.sh: Samba's DC needs root" >&2; exit 1; }
# 1. install (no daemons are started by the packages: temporary policy-rc.d)
if ! dpkg -s samba samba-ad-dc ldap-utils openssl >/dev/null 2>&1; then
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q samba samba-ad-dc ldap-utils openssl >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q samba samba-ad-dc ldap-utils openssl >&2; }
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. provision into DIR (about 3 s)
stop
rm -rf "$DIR"; mkdir -p "$DIR/run" "$DIR/log" "$DIR/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=dc1.${REALM,,}" \
  -addext "subjectAltName=IP:$IP,DNS:localhost,DNS:dc1.${REALM,,}" \
  -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
chmod 600 "$DIR/tls/key.pem"
samba-tool domain provision --targetdir="$DIR" --realm="$REALM" --domain="$DOMAIN" \
  --server-role=dc --dns-backend=NONE --use-rfc2307 --host-name=dc1 \
  --adminpass="$ADMINPASS" --backend-store="$BACKEND_STORE" \
  --option="interfaces = $IP" --option="bind interfaces only = yes" \
  --option="server services = ldap" \
  --option="ldb:nosync = true" \
  --option="pid directory = $DIR/run" \
  --option="winbindd socket directory = $DIR/run/winbindd" \
  --option="ntp signd socket directory = $DIR/run/ntp_signd" \
  --option="log file = $DIR/log/log.%m" \
  --option="tls certfile = $DIR/tls/cert.pem" --option="tls keyfile = $DIR/tls/key.pem" \
  --option="tls cafile = $DIR/tls/cert.pem" > "$DIR/log/provision.log" 2>&1 ||
  { tail -20 "$DIR/log/provision.log" >&2; exit 1; }
# provision drops this option from the generated smb.conf: add it by hand so that
# simple binds work on plain ldap://:389 too (LDAPS/StartTLS work either way)
sed -i 's/^\[global\]$/[global]\n\tldap server require strong auth = no/' "$DIR/etc/smb.conf"
# test-friendly password policy (no complexity, no min age/history)
samba-tool domain passwordsettings set -H "$DIR/private/sam.ldb" --complexity=off \
  --min-pwd-age=0 --history-length=0 --min-pwd-length=1 >/dev/null

# 3. start in background, wait until the rootDSE answers; on any failure
# from here on, stop the Samba this script launched
require_free_ports samba-ad.sh 389 636
samba -s "$DIR/etc/smb.conf" -F --debug-stdout -d1 > "$DIR/log/samba.out" 2>&1 < /dev/null &
samba_pid=$!
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "samba-ad.sh: start failed; stopping the Samba it launched (pid $samba_pid)" >&2; kill -TERM "$samba_pid" 2>/dev/null || true; stop; fi' EXIT
up=
for i in $(seq 1 200); do
  if ldapsearch -LLL -x -H "ldap://$IP" -s base -b '' dnsHostName >/dev/null 2>&1; then up=1; break; fi
  if ! kill -0 "$samba_pid" 2>/dev/null; then tail -20 "$DIR/log/samba.out" >&2; exit 1; fi
  sleep 0.1
done
[ -n "$up" ] || { echo "samba-ad.sh: Samba did not answer on ldap://$IP within 20 s" >&2; tail -20 "$DIR/log/samba.out" >&2; exit 1; }
# sanity: verified LDAPS + simple bind as Administrator
LDAPTLS_CACERT="$DIR/tls/cert.pem" ldapsearch -LLL -x -H "ldaps://$IP" \
  -D "Administrator@$REALM" -w "$ADMINPASS" -b '' -s base dnsHostName >/dev/null
cat <<EOF
IDBRIDGE_AD_URL=ldaps://$IP:636
IDBRIDGE_AD_STARTTLS_URL=ldap://$IP:389
IDBRIDGE_AD_BASE_DN=$BASE
IDBRIDGE_AD_BIND_DN=CN=Administrator,CN=Users,$BASE
IDBRIDGE_AD_PASSWORD=$ADMINPASS
IDBRIDGE_AD_CA=$DIR/tls/cert.pem
EOF
trap - EXIT
