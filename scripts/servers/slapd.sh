#!/usr/bin/env bash
# OpenLDAP slapd for the LDAP connector's integration tests and benchmarks.
#
#   bash scripts/servers/slapd.sh start DIR   # prints IDBRIDGE_SLAPD_* lines
#   bash scripts/servers/slapd.sh stop DIR
#
# start installs Debian's slapd and ldap-utils when missing (without letting
# the package start its own daemon), configures a throw-away server in DIR
# (slapd.conf; an mdb database with the memberof, ppolicy, accesslog and
# syncprov overlays, so RFC 4533 content synchronization works; a TLS
# certificate for 127.0.0.1), and starts it on free loopback ports (never
# 389/636, which Samba's DC needs). Tests read the printed variables through
# testenv.Get. PORT and LDAPS_PORT choose the ports; start fails at once,
# naming the process, when one is taken, and on any failure after slapd
# started it stops it.
set -euo pipefail
. "$(dirname "$0")/ports.sh"

cmd=${1:-}; DIR=${2:-}
if [ -z "$cmd" ] || [ -z "$DIR" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
DIR=$(realpath -m "$DIR")
SUFFIX=${SUFFIX:-dc=example,dc=test}
ROOTDN="cn=admin,$SUFFIX"
ROOTPW=${ROOTPW:-Slapd-r00t-k7w}
log() { echo "slapd.sh: $*" >&2; }

stop() {
  [ -f "$DIR/slapd.pid" ] || return 0
  local p; p=$(cat "$DIR/slapd.pid")
  if kill -0 "$p" 2>/dev/null; then
    kill -TERM "$p"
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  fi
}
if [ "$cmd" = stop ]; then stop; exit 0; fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

free_port() {
  local p
  for p in $(seq "$1" "$2"); do
    if ! (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  log "no free port in $1-$2"; exit 1
}
stop
PORT=${PORT:-$(free_port 3890 3989)}
LDAPS_PORT=${LDAPS_PORT:-$(free_port 6360 6459)}
require_free_ports slapd.sh "$PORT" "$LDAPS_PORT"
# 1. install without letting the package start its own slapd (temporary policy-rc.d)
if ! dpkg -s slapd ldap-utils openssl >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "slapd is not installed and we are not root"; exit 1; }
  created_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q slapd ldap-utils openssl >&2 ||
    { apt-get update -q >&2 && apt-get install -y -q slapd ldap-utils openssl >&2; }
  if [ -n "$created_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. configure into DIR
stop
rm -rf "$DIR"; mkdir -p "$DIR/data" "$DIR/accesslog" "$DIR/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
PWHASH=$(slappasswd -s "$ROOTPW")
cat > "$DIR/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload syncprov
moduleload accesslog
moduleload ppolicy
moduleload memberof
pidfile $DIR/slapd.pid
argsfile $DIR/slapd.args
TLSCertificateFile $DIR/tls/cert.pem
TLSCertificateKeyFile $DIR/tls/key.pem
sizelimit unlimited

database config
access to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

database mdb
suffix "cn=accesslog"
directory $DIR/accesslog
rootdn "$ROOTDN"
dbnosync
maxsize 1073741824
index default eq
index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq
overlay syncprov
syncprov-nopresent TRUE
syncprov-reloadhint TRUE

database mdb
suffix "$SUFFIX"
rootdn "$ROOTDN"
rootpw $PWHASH
directory $DIR/data
dbnosync
maxsize 4294967296
index objectClass,entryUUID,entryCSN eq
index uid,cn,mail,sn,givenName eq,sub
index member,memberOf eq
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
limits dn.exact="$ROOTDN" size=unlimited time=unlimited
overlay memberof
memberof-refint TRUE
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$SUFFIX"
ppolicy_hash_cleartext
overlay accesslog
logdb cn=accesslog
logops writes
logsuccess TRUE
logpurge 07+00:00 01+00:00
overlay syncprov
syncprov-checkpoint 100 10
syncprov-sessionlog 10000
EOF
slaptest -Q -u -f "$DIR/slapd.conf"

# base entries (offline, fast)
cat > "$DIR/base.ldif" <<EOF
dn: $SUFFIX
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: $(echo "$SUFFIX" | sed 's/^dc=\([^,]*\).*/\1/')

dn: ou=people,$SUFFIX
objectClass: organizationalUnit
ou: people

dn: ou=groups,$SUFFIX
objectClass: organizationalUnit
ou: groups

dn: ou=policies,$SUFFIX
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$SUFFIX
objectClass: top
objectClass: device
objectClass: pwdPolicy
cn: default
pwdAttribute: userPassword
pwdMinLength: 1
pwdInHistory: 0
pwdLockout: TRUE
pwdMaxFailure: 5
EOF
slapadd -q -f "$DIR/slapd.conf" -b "$SUFFIX" -l "$DIR/base.ldif"

# 3. start (daemonizes, writes DIR/slapd.pid); wait until it answers
slapd -f "$DIR/slapd.conf" -h "ldap://127.0.0.1:$PORT/ ldaps://127.0.0.1:$LDAPS_PORT/ ldapi://$(printf %s "$DIR/ldapi" | sed 's,/,%2F,g')" \
  > "$DIR/slapd.out" 2>&1
trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed; stopping the slapd it launched"; stop; fi' EXIT
for i in $(seq 1 100); do
  ldapsearch -LLL -x -H "ldap://127.0.0.1:$PORT" -D "$ROOTDN" -w "$ROOTPW" -s base -b "$SUFFIX" dn >/dev/null 2>&1 && break
  sleep 0.1
done
ldapsearch -LLL -x -H "ldap://127.0.0.1:$PORT" -D "$ROOTDN" -w "$ROOTPW" -s base -b "$SUFFIX" dn >/dev/null
cat <<EOF
IDBRIDGE_SLAPD_URL=ldaps://127.0.0.1:$LDAPS_PORT
IDBRIDGE_SLAPD_STARTTLS_URL=ldap://127.0.0.1:$PORT
IDBRIDGE_SLAPD_BASE_DN=$SUFFIX
IDBRIDGE_SLAPD_BIND_DN=$ROOTDN
IDBRIDGE_SLAPD_PASSWORD=$ROOTPW
IDBRIDGE_SLAPD_CA=$DIR/tls/cert.pem
EOF
trap - EXIT
