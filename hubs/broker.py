"""Broker administration: per-hub accounts and roles through Mosquitto's dynamic-security plugin.

Commands go to `$CONTROL/dynamic-security/v1` as the admin account named by
`MQTT_ADMIN_URL`; the plugin answers on `.../response` with one entry per command,
carrying `error` when the command failed. One admin connection per process, commands
serialised by a lock (the plugin answers in order, correlation data pairs them up).

Mosquitto 2.0.11's rules have no `%u`/`%c` substitution, so every hub gets its own role.
"""
import json
import logging
import threading
import uuid

import paho.mqtt.client as mqtt
from django.conf import settings

from .mqtt import topics
from .mqtt.publisher import broker_params

logger = logging.getLogger(__name__)

BACKEND_ROLE = "veahome-backend"
# Within a role the highest priority ACL that matches decides.
_DENY_FIRST = 10
_ALLOW = 0

_lock = threading.Lock()
_admin: "DynsecAdmin | None" = None


class BrokerError(Exception):
    """The broker could not be reached or refused an administration command."""


def hub_username(hub_id) -> str:
    return f"hub-{hub_id}"


def hub_role(hub_id) -> str:
    return f"hub-{hub_id}"


def hub_acls(hub_id) -> list[dict]:
    """A hub publishes only under its own root (never to its command topics) and
    subscribes only to its own command topics."""
    commands = topics.hub_commands(hub_id)
    acls = [{"acltype": "publishClientSend", "topic": t, "priority": _DENY_FIRST, "allow": False} for t in commands]
    acls.append({"acltype": "publishClientSend", "topic": topics.hub_all(hub_id), "priority": _ALLOW, "allow": True})
    acls += [{"acltype": "subscribePattern", "topic": t, "priority": _ALLOW, "allow": True} for t in commands]
    return acls


def backend_acls() -> list[dict]:
    """The backend reads every hub's reports and publishes every hub's commands."""
    acls = [{"acltype": "subscribePattern", "topic": topics.hub_all("+"), "priority": _ALLOW, "allow": True},
            # Several listeners split the reports through shared subscriptions.
            {"acltype": "subscribePattern", "topic": topics.shared(topics.hub_all("+")), "priority": _ALLOW, "allow": True}]
    acls += [{"acltype": "publishClientSend", "topic": t, "priority": _ALLOW, "allow": True} for t in topics.hub_commands("+")]
    return acls


class DynsecAdmin:
    """One admin connection to the broker's dynamic-security control topic."""

    def __init__(self, url: str, *, timeout: float = 5.0):
        self.params = broker_params(url)
        self.timeout = timeout
        # correlation id -> (done, responses so far, responses expected)
        self._pending: dict[str, tuple[threading.Event, list, int]] = {}
        self._subscribed = threading.Event()
        self._refused = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"veahome-admin-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv311,
        )
        if self.params["username"]:
            self.client.username_pw_set(self.params["username"], self.params["password"])
        if self.params["tls"]:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.on_message = self._on_message
        try:
            self.client.connect(self.params["host"], self.params["port"], keepalive=30)
        except OSError as exc:
            raise BrokerError(f"broker admin connection failed: {exc}") from exc
        self.client.loop_start()
        if not self._subscribed.wait(self.timeout) or self._refused.is_set():
            self.close()
            raise BrokerError("broker admin login failed or timed out (check MQTT_ADMIN_URL)")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("broker admin connection refused: %s", reason_code)
            # No retry loop: a refused admin login is a configuration error.
            client.disconnect()
            self._refused.set()
            self._subscribed.set()
            return
        client.subscribe(topics.DYNSEC_RESPONSE, qos=1)

    def _on_message(self, client, userdata, message):
        try:
            responses = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            logger.warning("malformed dynamic-security response skipped")
            return
        for response in responses:
            waiter = self._pending.get(response.get("correlationData"))
            if waiter is not None:
                waiter[1].append(response)
                if len(waiter[1]) >= waiter[2]:
                    waiter[0].set()

    def execute(self, commands: list[dict], *, ignore: tuple[str, ...] = ()) -> list[dict]:
        """Run commands in order; raise BrokerError on any error not listed in `ignore`."""
        correlation = uuid.uuid4().hex
        done = threading.Event()
        self._pending[correlation] = (done, [], len(commands))
        try:
            body = {"commands": [dict(c, correlationData=correlation) for c in commands]}
            info = self.client.publish(topics.DYNSEC_CONTROL, json.dumps(body), qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS or not done.wait(self.timeout):
                raise BrokerError("no answer from the broker's dynamic-security plugin")
            responses = self._pending[correlation][1]
        finally:
            self._pending.pop(correlation, None)
        for response in responses:
            error = response.get("error")
            if error and error not in ignore:
                raise BrokerError(f"{response.get('command')}: {error}")
        return responses

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def admin() -> DynsecAdmin:
    global _admin
    with _lock:
        if _admin is None or not _admin.client.is_connected():
            if _admin is not None:
                _admin.close()
            _admin = DynsecAdmin(settings.MQTT_ADMIN_URL)
        return _admin


def reset() -> None:
    """Drop the process's admin connection (tests, settings changes, after fork)."""
    global _admin
    with _lock:
        if _admin is not None:
            _admin.close()
        _admin = None


def _run(commands: list[dict], **kwargs) -> list[dict]:
    return admin().execute(commands, **kwargs)


def _upsert_account(*, username: str, password: str, rolename: str, acls: list[dict], clientid: str | None = None) -> None:
    """Create the role and client, or bring existing ones up to date.

    The plugin rewrites its whole state file after every successful command, so the
    common case (a new account) is one batch of two commands; the update commands only
    run for what already existed."""
    identity = {"username": username, "password": password, "roles": [{"rolename": rolename, "priority": 0}]}
    if clientid is not None:
        identity["clientid"] = clientid
    role_result, client_result = _run(
        [{"command": "createRole", "rolename": rolename, "acls": acls}, {"command": "createClient", **identity}],
        ignore=("Role already exists", "Client already exists"),
    )
    updates = []
    if role_result.get("error"):
        # modifyRole replaces the ACL list, so a re-run converges on the current rules.
        updates.append({"command": "modifyRole", "rolename": rolename, "acls": acls})
    if client_result.get("error"):
        # The broker closes a live session of the client whose password changes.
        updates.append({"command": "modifyClient", **identity})
    if updates:
        _run(updates)


def hub_account_set(*, hub_id, password: str) -> str:
    """Create or update the hub's broker account with this password; its client id is
    pinned to the hub id so no other login can take the hub's session over."""
    username = hub_username(hub_id)
    _upsert_account(
        username=username, password=password, rolename=hub_role(hub_id), acls=hub_acls(hub_id), clientid=str(hub_id)
    )
    logger.info("broker account %s set", username)
    return username


def hub_account_delete(*, hub_id) -> None:
    """Remove the hub's account and role; the broker disconnects a live session at once."""
    _run(
        [
            {"command": "deleteClient", "username": hub_username(hub_id)},
            {"command": "deleteRole", "rolename": hub_role(hub_id)},
        ],
        ignore=("Client not found", "Role not found"),
    )
    logger.info("broker account %s deleted", hub_username(hub_id))


def backend_account_set(*, username: str, password: str) -> None:
    """The backend's own account (publisher and mqtt_listen) and its role."""
    _upsert_account(username=username, password=password, rolename=BACKEND_ROLE, acls=backend_acls())
    logger.info("broker account %s set", username)
