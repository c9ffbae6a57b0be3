"""The one publisher for every cloud -> hub message (QoS 1).

One paho client per process, connected lazily with the backend's own broker account;
`publish` waits for the broker's PUBACK so a caller knows the message left.
"""
import json
import logging
import threading
import uuid
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from django.conf import settings

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


def send_control(*, hub_id, device_id, payload: dict) -> None:
    publish(topics.device_control(hub_id, device_id), payload)


def send_learn(*, hub_id, device_id, payload: dict) -> None:
    publish(topics.device_learn(hub_id, device_id), payload)


def send_wifi_config(*, hub_id, ssid: str, password: str) -> None:
    # The password passes through memory only: never stored, never logged.
    publish(topics.wifi_config(hub_id), {"ssid": ssid, "password": password})
