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

# The virtualenv's interpreter: $PYTHON if set, else Debian's python3.11 when it can make a
# virtualenv (Debian builds it with PGO and LTO: about 15% less CPU per API request than a
# plain source build such as pyenv's, bench/rest_devices.py), else python3.
base_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  if /usr/bin/python3.11 -c 'import ensurepip, venv' >/dev/null 2>&1; then echo /usr/bin/python3.11; return; fi
  echo python3
}

ensure_python() {
  local reqs=${1:-requirements.txt}
  if [ ! -x "$PY" ]; then
    local base
    base=$(base_python)
    log "creating virtualenv $VENV with $base ($("$base" -V 2>&1))"
    "$base" -m venv "$VENV" || { log "falling back to python3"; rm -rf "$VENV"; python3 -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed-$(cat "$ROOT/requirements.txt" "$ROOT/$reqs" | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    log "installing $reqs"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -r "$ROOT/$reqs"
    touch "$stamp"
  fi
}

# A random SECRET_KEY for this install, written into .env once (kept on later runs).
ensure_secret_key() {
  if [ -z "${SECRET_KEY:-}" ] && ! grep -qs '^SECRET_KEY=' "$ROOT/.env"; then
    log "writing a random SECRET_KEY into .env"
    (umask 077 && printf 'SECRET_KEY=%s\n' "$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')" >> "$ROOT/.env")
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

ensure_project_broker() {
  # The project's own Mosquitto (dynamic-security plugin: per-hub accounts) on MQTT_URL's
  # host and port, config and data under .run/mosquitto/. Account passwords missing from
  # MQTT_URL / MQTT_ADMIN_URL are generated once and kept in .run/mosquitto/accounts.env
  # (mode 600); both variables are exported complete for the processes started afterwards.
  # To change the admin password, stop the broker and delete .run/mosquitto/.
  apt_install mosquitto mosquitto
  local dir="$ROOT/.run/mosquitto"
  mkdir -p "$dir" && chmod 700 "$dir"
  eval "$("$PY" - "$dir/accounts.env" <<'PY'
import os, secrets, shlex, sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

store = Path(sys.argv[1])
saved = dict(l.split("=", 1) for l in store.read_text().split()) if store.exists() else {}
backend = urlsplit(os.environ.get("MQTT_URL") or "mqtt://127.0.0.1:1883")
admin = urlsplit(os.environ.get("MQTT_ADMIN_URL") or f"mqtt://{backend.hostname}:{backend.port or 1883}")

def complete(var, url, default_user):
    user = unquote(url.username or "") or default_user
    password = unquote(url.password or "") or saved.get(f"{var}_PASSWORD") or secrets.token_urlsafe(24)
    saved[f"{var}_PASSWORD"] = password
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{url.hostname}:{url.port or 1883}"
    return f"{url.scheme}://{netloc}"

env = {"MQTT_URL": complete("MQTT_URL", backend, "veahome-backend"),
       "MQTT_ADMIN_URL": complete("MQTT_ADMIN_URL", admin, "veahome-admin")}
fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as out:
    out.write("".join(f"{k}={v}\n" for k, v in saved.items()))
for key, value in env.items():
    print(f"export {key}={shlex.quote(value)}")
print(f"_broker_host={shlex.quote(backend.hostname)} _broker_port={backend.port or 1883}")
PY
)"
  "$PY" "$ROOT/manage.py" broker_setup --config-dir "$dir" >/dev/null
  if [ -f "$dir/mosquitto.pid" ] && kill -0 "$(cat "$dir/mosquitto.pid")" 2>/dev/null; then
    :
  elif port_open "$_broker_host" "$_broker_port"; then
    log "port $_broker_port is taken by another MQTT broker: point MQTT_URL at a free port"; return 1
  else
    log "starting the project's Mosquitto on $_broker_host:$_broker_port"
    mosquitto -d -c "$dir/mosquitto.conf"
    wait_port "$_broker_host" "$_broker_port" Mosquitto
  fi
  "$PY" "$ROOT/manage.py" broker_setup --accounts >/dev/null
}

ensure_influxdb_package() {
  # The InfluxDB backend's tests start their own influxd (Debian's influxdb package, 1.x).
  apt_install influxd influxdb
}

ensure_chromium() {
  # Debian's browser and its matching driver: the admin's browser test drives them, and
  # nothing is downloaded at test time.
  apt_install chromium chromium
  apt_install chromedriver chromium-driver
}
