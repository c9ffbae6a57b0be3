"""The one publisher for every cloud -> hub message (QoS 1).

One paho client per process, connected lazily with the backend's own broker account;
`publish` waits for the broker's PUBACK so a caller knows the message left.

Services never publish inside their transaction: `send_after_commit` queues the message
until the transaction that records it (a command, a learning session) commits, so a hub
answering at once finds the row, a rollback sends nothing, and a scene can queue many
commands from one transaction. Each message has a key (its command or session id): a key
already sent is not sent again, by this process or any other.
"""
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from veahome import redis_store

from . import topics

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_client: mqtt.Client | None = None


class PublishError(Exception):
    pass


def broker_params(url: str | None = None) -> dict:
    parsed = urlparse(url or settings.MQTT_URL)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or (8883 if parsed.scheme == "mqtts" else 1883),
        "username": parsed.username,
        "password": parsed.password,
        "tls": parsed.scheme == "mqtts",
    }


def _connect() -> mqtt.Client:
    params = broker_params()
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"veahome-pub-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv311,
    )
    if params["username"]:
        client.username_pw_set(params["username"], params["password"])
    if params["tls"]:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    # paho keeps only 20 QoS 1 messages in flight by default: a batch of 500 (a scene, a
    # schedule tick) would wait for 25 rounds of PUBACKs instead of one.
    client.max_inflight_messages_set(settings.MQTT_PUBLISH_MAX_INFLIGHT)
    client.connect(params["host"], params["port"], keepalive=30)
    client.loop_start()
    return client


def client() -> mqtt.Client:
    global _client
    with _lock:
        if _client is None:
            _client = _connect()
        return _client


def reset() -> None:
    """Drop the process's connection (tests, settings changes, after fork)."""
    global _client
    with _lock:
        if _client is not None:
            _client.loop_stop()
            _client.disconnect()
        _client = None


def publish(topic: str, payload: dict, *, timeout: float = 5.0, retain: bool = False) -> None:
    info = client().publish(topic, json.dumps(payload, separators=(",", ":")), qos=1, retain=retain)
    try:
        info.wait_for_publish(timeout=timeout)
    except (RuntimeError, ValueError) as exc:
        raise PublishError(str(exc)) from exc
    if not info.is_published():
        raise PublishError(f"no PUBACK for {topic} within {timeout}s")


@dataclass
class Send:
    """A cloud -> hub message queued by `send_after_commit`; `status` says what became of it:
    queued (its transaction has not committed yet), sent, failed (`error` says why), or
    duplicate (its key was sent before)."""

    key: str
    topic: str
    status: str = "queued"
    error: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.status == "failed"


# How long a sent key is remembered (longer than any retry of the same command).
SENT_KEY_SECONDS = 24 * 3600


def _claim(key: str) -> bool:
    """True for the first sender of `key`. Without Redis the message is sent anyway: hubs
    drop a repeated commandId/sessionId, while a command never sent would be lost."""
    try:
        return cache.add(f"hub-send:{key}", 1, timeout=SENT_KEY_SECONDS)
    except redis.RedisError:
        logger.warning("send key %s not recorded: Redis unavailable", key)
        return True


def _release(key: str) -> None:
    try:
        cache.delete(f"hub-send:{key}")
    except redis.RedisError:
        pass


def send_after_commit(*, key: str, topic: str, payload: dict,
                      on_sent: Callable[[], None] | None = None,
                      on_failed: Callable[[Exception], None] | None = None) -> Send:
    """Publish `payload` on `topic` once the current transaction commits (at once outside
    one), then call `on_sent()` or `on_failed(error)` in autocommit mode. A rolled-back
    transaction sends nothing; a key sent before is skipped."""
    send = Send(key=key, topic=topic)

    def deliver():
        if not _claim(key):
            send.status = "duplicate"
            return
        try:
            publish(topic, payload)
        except (PublishError, OSError) as exc:
            _release(key)
            send.status, send.error = "failed", exc
            if on_failed is not None:
                on_failed(exc)
            return
        send.status = "sent"
        if on_sent is not None:
            on_sent()

    transaction.on_commit(deliver)
    return send


def publish_batch(messages: list[tuple[str, str, dict]], *, timeout: float = 5.0) -> list[str | Exception]:
    """Publish many (key, topic, payload) at once, for a transaction that recorded them all:
    the keys are claimed in one Redis round trip, every message is handed to the broker before
    any PUBACK is awaited, and the acknowledgements are awaited together. One result per
    message, in order: "sent", "duplicate" (its key was sent before) or the error."""
    keys = [f"hub-send:{key}" for key, _, _ in messages]
    try:
        # The same keys `_claim` adds through the cache (its prefix and version).
        pipe = redis_store.cache().pipeline(transaction=False)
        for key in keys:
            pipe.set(cache.make_key(key), 1, nx=True, ex=SENT_KEY_SECONDS)
        claimed = [bool(ok) for ok in pipe.execute()]
    except redis.RedisError:
        logger.warning("send keys of %d messages not recorded: Redis unavailable", len(messages))
        claimed = [True] * len(messages)
    results: list[str | Exception] = ["duplicate" if not ok else "sent" for ok in claimed]
    infos = {}
    try:
        mqtt_client = client()
    except (PublishError, OSError) as exc:
        mqtt_client, results = None, [exc if r == "sent" else r for r in results]
    for index, (key, topic, payload) in enumerate(messages):
        if mqtt_client is None or results[index] != "sent":
            continue
        try:
            infos[index] = mqtt_client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1)
        except (RuntimeError, ValueError, OSError) as exc:
            results[index] = PublishError(str(exc))
    deadline = time.monotonic() + timeout
    for index, info in infos.items():
        try:
            info.wait_for_publish(timeout=max(0.0, deadline - time.monotonic()))
        except (RuntimeError, ValueError) as exc:
            results[index] = PublishError(str(exc))
            continue
        if not info.is_published():
            results[index] = PublishError(f"no PUBACK for {messages[index][1]} within {timeout}s")
    for index, result in enumerate(results):
        if isinstance(result, Exception) and claimed[index]:
            _release(messages[index][0])
    return results


def send_control(*, hub_id, device_id, command_id, payload: dict, **callbacks) -> Send:
    return send_after_commit(key=f"command:{command_id}", topic=topics.device_control(hub_id, device_id),
                             payload={"commandId": str(command_id), **payload}, **callbacks)


def send_learn(*, hub_id, device_id, session_id, action: str, **callbacks) -> Send:
    return send_after_commit(key=f"learn:{session_id}", topic=topics.device_learn(hub_id, device_id),
                             payload={"sessionId": str(session_id), "action": action}, **callbacks)


def send_wifi_config(*, hub_id, ssid: str, password: str, **callbacks) -> Send:
    # The password passes through memory only: never stored, never logged. Each request is
    # its own message (nothing to deduplicate against).
    return send_after_commit(key=f"wifi:{uuid.uuid4()}", topic=topics.wifi_config(hub_id),
                             payload={"ssid": ssid, "password": password}, **callbacks)
