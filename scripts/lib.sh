# Shared setup steps for scripts/run, scripts/test and .ci/run. Sourced, not executed.
# Idempotent: every step checks before it acts, so a ready machine costs seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=$VENV/bin/python
export PATH="$VENV/bin:$PATH"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

_apt_updated=0
apt_install() {
  # apt_install CMD PACKAGE...: install PACKAGEs when CMD is missing.
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  log "installing $*"
  if [ $_apt_updated = 0 ]; then apt-get update -qq >/dev/null; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_port() {
  local host=$1 port=$2 name=$3
  for _ in $(seq 1 100); do port_open "$host" "$port" && return 0; sleep 0.2; done
  log "$name did not come up on $host:$port"; return 1
}

ensure_python() {
  local reqs=${1:-requirements.txt}
  if [ ! -x "$PY" ]; then
    log "creating virtualenv $VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$(cat "$ROOT/requirements.txt" "$ROOT/$reqs" | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    log "installing $reqs"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -r "$ROOT/$reqs"
    touch "$stamp"
  fi
}

ensure_postgres() {
  if ! port_open 127.0.0.1 5432; then
    apt_install pg_ctlcluster postgresql
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    wait_port 127.0.0.1 5432 PostgreSQL
  fi
}

ensure_redis() {
  if ! port_open 127.0.0.1 6379; then
    apt_install redis-server redis-server
    log "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/veahome.log
    wait_port 127.0.0.1 6379 Redis
  fi
}

ensure_mosquitto() {
  apt_install mosquitto mosquitto mosquitto-clients
  apt_install mosquitto_pub mosquitto-clients
  if ! port_open 127.0.0.1 1883; then
    log "starting Mosquitto"
    mosquitto -d -c /etc/mosquitto/mosquitto.conf
    wait_port 127.0.0.1 1883 Mosquitto
  fi
}

ensure_services() {
  ensure_postgres
  ensure_redis
  ensure_mosquitto
}

ensure_database() {
  # ensure_database NAME: create the PostgreSQL database if it does not exist.
  local name=$1
  if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='$name'" | grep -q 1; then
    log "creating database $name"
    createdb -h 127.0.0.1 -U postgres "$name"
  fi
}
