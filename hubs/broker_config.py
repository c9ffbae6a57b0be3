"""The project's Mosquitto configuration and initial dynamic-security state (no broker needed).

Used by `manage.py broker_setup`, scripts/lib.sh's `ensure_project_broker` and the test
broker fixture, so every broker the project starts runs with the same settings.
"""
import base64
import glob
import hashlib
import json
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from . import broker

CONFIG_NAME = "mosquitto.conf"
DYNSEC_NAME = "dynamic-security.json"
PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",  # Debian/Ubuntu multiarch (package mosquitto)
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)
# Mosquitto's dynamic-security plugin stores PBKDF2-SHA512 hashes in this shape.
_PBKDF2_ITERATIONS = 1000


@dataclass(frozen=True)
class Account:
    username: str
    password: str


def find_plugin() -> str:
    configured = getattr(settings, "MQTT_DYNSEC_PLUGIN", "")
    if configured:
        return configured
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    raise FileNotFoundError("mosquitto_dynamic_security.so not found; install the mosquitto package or set MQTT_DYNSEC_PLUGIN")


def render(*, data_dir: Path, host: str, port: int, plugin: str | None = None, run_as: str | None = None) -> str:
    data_dir = Path(data_dir).resolve()
    run_as = run_as or pwd.getpwuid(os.geteuid()).pw_name
    return f"""\
# VeaHome's Mosquitto: written by `manage.py broker_setup`; edits are overwritten.
per_listener_settings false
# Run as the owner of the data directory (by default whoever wrote it): started as root,
# mosquitto would otherwise switch to user "mosquitto", which may not be able to read the
# data directory or the dynamic-security file (mode 0600) made here.
user {run_as}
listener {port} {host}
allow_anonymous false
plugin {plugin or find_plugin()}
plugin_opt_config_file {data_dir / DYNSEC_NAME}

# Queue limits are set on purpose. The default max_queued_messages (1000) silently drops
# QoS 1 messages for a persistent-session subscriber that falls behind (the backend's
# listener during a burst) while publishers still get their PUBACK.
max_queued_messages {settings.MQTT_MAX_QUEUED_MESSAGES}
max_queued_bytes 0
# Per-client QoS 1 window; not relied on for flow control (2.0.11 does not hold it
# once acknowledgements are delayed), the listener applies its own backpressure.
max_inflight_messages {settings.MQTT_MAX_INFLIGHT_MESSAGES}
max_packet_size 262144
# Sessions of hubs that never come back (unpaired, replaced) are dropped after a week.
persistent_client_expiration 7d

# Queued messages and retained hub statuses survive a restart; with autosave_on_changes
# the database is written after this many changes rather than on a timer.
persistence true
persistence_location {data_dir}/
autosave_on_changes true
autosave_interval {settings.MQTT_AUTOSAVE_CHANGES}

pid_file {data_dir / "mosquitto.pid"}
log_dest file {data_dir / "mosquitto.log"}
log_type error
log_type warning
log_type notice
connection_messages true
"""


def _hashed(account: Account, rolename: str, textname: str) -> dict:
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", account.password.encode(), salt, _PBKDF2_ITERATIONS, 64)
    return {
        "username": account.username,
        "textName": textname,
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": _PBKDF2_ITERATIONS,
        "roles": [{"rolename": rolename}],
    }


def initial_dynsec(*, admin: Account, backend: Account) -> dict:
    """What `mosquitto_ctrl dynsec init` writes, plus the backend's account and role, so
    a fresh broker is usable without passing passwords on a command line."""
    admin_acls = [
        {"acltype": "publishClientSend", "topic": "$CONTROL/dynamic-security/#", "allow": True},
        {"acltype": "publishClientReceive", "topic": "$CONTROL/dynamic-security/#", "allow": True},
        {"acltype": "subscribePattern", "topic": "$CONTROL/dynamic-security/#", "allow": True},
        {"acltype": "publishClientReceive", "topic": "$SYS/#", "allow": True},
        {"acltype": "subscribePattern", "topic": "$SYS/#", "allow": True},
    ]
    return {
        "clients": [
            _hashed(admin, "admin", "Broker administration (VeaHome backend)"),
            _hashed(backend, broker.BACKEND_ROLE, "VeaHome backend: listener and publisher"),
        ],
        "roles": [
            {"rolename": "admin", "acls": admin_acls},
            {"rolename": broker.BACKEND_ROLE, "acls": broker.backend_acls()},
        ],
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": True,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def write(*, data_dir: Path, host: str, port: int, admin: Account, backend: Account, run_as: str | None = None) -> Path:
    """Write mosquitto.conf (always) and the dynamic-security file (only when missing: the
    broker owns it afterwards). Returns the config path."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / CONFIG_NAME
    config.write_text(render(data_dir=data_dir, host=host, port=port, run_as=run_as))
    dynsec = data_dir / DYNSEC_NAME
    if not dynsec.exists():
        fd = os.open(dynsec, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(initial_dynsec(admin=admin, backend=backend), out, indent=1)
    return config
