# Port helpers shared by the server scripts (sourced, not run).

# port_in_use PORT: something on this machine accepts connections on
# 127.0.0.1:PORT.
port_in_use() { (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }

# port_holder PORT prints what listens on PORT ("ldap[master] pid 5872"),
# or "an unknown process" when ss cannot tell (not root, no iproute2).
port_holder() {
  local line procs
  line=$(ss -ltnpH "sport = :$1" 2>/dev/null | head -1) || true
  procs=$(printf '%s' "$line" | grep -o '("[^"]*",pid=[0-9]*' | sed 's/("\([^"]*\)",pid=\([0-9]*\)/\1 pid \2/' | tail -1) || true
  echo "${procs:-an unknown process}"
}

# require_free_ports NAME PORT...: exits with a message naming the holder
# of the first port in use.
require_free_ports() {
  local name=$1 p; shift
  for p in "$@"; do
    if port_in_use "$p"; then
      echo "$name: port $p on 127.0.0.1 is already in use by $(port_holder "$p"); stop it, or use the server already running there" >&2
      exit 1
    fi
  done
}
