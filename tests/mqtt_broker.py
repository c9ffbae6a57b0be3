"""A real Mosquitto with the dynamic-security plugin for tests, on a free port.

Use the fixtures from a conftest (`from tests.mqtt_broker import dynsec_broker, broker`):
`dynsec_broker` (session) starts one broker from the project's own configuration
(hubs.broker_config); `broker` (per test) points the settings (MQTT_URL = backend account,
MQTT_ADMIN_URL = admin account) at it and drops cached connections before and after.
`broker.provision(hub)` gives a paired hub broker credentials through the real service;
`broker.connect(...)` opens an MQTT client that records what happens to it.
The backend's role is written for the topic prefix in force when the broker starts; a
test that changes MQTT_TOPIC_PREFIX calls `broker.sync_backend_role()` afterwards.
"""
import json
import queue
import secrets
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password

from hubs import broker as broker_admin
from hubs import broker_config, services
from hubs.models import Hub
from hubs.mqtt import publisher, topics

HOST = "127.0.0.1"
TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen, deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {port}")


@dataclass
class HubCredentials:
    hub_id: str
    username: str
    password: str
    client_id: str
    topic_root: str


class Probe:
    """An MQTT client that records connects, disconnects, messages and PUBACK reason codes."""

    def __init__(self, *, port: int, username: str | None, password: str | None, client_id: str,
                 will: tuple[str, dict] | None = None, clean_start: bool = True):
        self.connects: "queue.Queue[mqtt.ReasonCode]" = queue.Queue()
        self.disconnected = threading.Event()
        self.messages: "queue.Queue[tuple[str, dict | bytes, bool]]" = queue.Queue()
        self.pubacks: dict[int, mqtt.ReasonCode] = {}
        self._acked = threading.Condition()
        self._subacks: "queue.Queue[list]" = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        if will:
            self.client.will_set(will[0], json.dumps(will[1]), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnected.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._subacks.put(rcs)
        self.client.connect(HOST, port, keepalive=30, clean_start=clean_start)
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            client.disconnect()  # a refused probe should not keep retrying
        self.connects.put(reason_code)

    def _on_message(self, client, userdata, message):
        try:
            payload = json.loads(message.payload)
        except ValueError:
            payload = message.payload
        self.messages.put((message.topic, payload, message.retain))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._acked:
            self.pubacks[mid] = reason_code
            self._acked.notify_all()

    def connect_result(self, timeout: float = TIMEOUT) -> mqtt.ReasonCode:
        return self.connects.get(timeout=timeout)

    def subscribe(self, topic: str, timeout: float = TIMEOUT) -> list:
        self.client.subscribe(topic, qos=1)
        return self._subacks.get(timeout=timeout)

    def publish(self, topic: str, payload: dict, *, retain: bool = False, timeout: float = TIMEOUT) -> mqtt.ReasonCode:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, json.dumps(payload), qos=1, retain=retain)
        with self._acked:
            if not self._acked.wait_for(lambda: info.mid in self.pubacks, timeout):
                raise TimeoutError(f"no PUBACK for {topic}")
            return self.pubacks[info.mid]

    def next_message(self, timeout: float = TIMEOUT):
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class DynsecBroker:
    port: int
    admin: broker_config.Account
    backend: broker_config.Account
    data_dir: Path
    role_prefix: str
    host: str = HOST
    probes: list = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        return f"mqtt://{self.admin.username}:{self.admin.password}@{self.host}:{self.port}"

    @property
    def backend_url(self) -> str:
        return f"mqtt://{self.backend.username}:{self.backend.password}@{self.host}:{self.port}"

    def connect(self, *, username=None, password=None, client_id=None, **kwargs) -> Probe:
        probe = Probe(port=self.port, username=username, password=password,
                      client_id=client_id or f"probe-{secrets.token_hex(4)}", **kwargs)
        self.probes.append(probe)
        return probe

    def connect_backend(self) -> Probe:
        return self.connect(username=self.backend.username, password=self.backend.password)

    def connect_hub(self, creds: HubCredentials, **kwargs) -> Probe:
        kwargs.setdefault("client_id", creds.client_id)
        return self.connect(username=creds.username, password=creds.password, **kwargs)

    def provision(self, hub: Hub, factory_secret: str | None = None) -> HubCredentials:
        """Give a paired hub broker credentials through the real provisioning service."""
        secret = factory_secret or secrets.token_urlsafe(24)
        if factory_secret is None:
            Hub.objects.filter(pk=hub.pk).update(factory_secret_hash=make_password(secret))
        hub, password = services.hub_provision(serial=hub.serial_number, factory_secret=secret)
        return HubCredentials(str(hub.pk), hub.broker_username, password, str(hub.pk), topics.hub_root(hub.pk))

    def sync_backend_role(self) -> None:
        """Rewrite the backend's ACLs for the current MQTT_TOPIC_PREFIX."""
        broker_admin.backend_account_set(username=self.backend.username, password=self.backend.password)
        self.role_prefix = settings.MQTT_TOPIC_PREFIX

    def close_probes(self) -> None:
        while self.probes:
            self.probes.pop().close()


def start_broker(data_dir: Path) -> tuple[DynsecBroker, subprocess.Popen]:
    port = free_port()
    admin = broker_config.Account("admin-test", secrets.token_urlsafe(16))
    backend = broker_config.Account("backend-test", secrets.token_urlsafe(16))
    config = broker_config.write(data_dir=data_dir, host=HOST, port=port, admin=admin, backend=backend)
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_port(port, process)
    except RuntimeError:
        process.kill()
        raise
    test_broker = DynsecBroker(port=port, admin=admin, backend=backend, data_dir=data_dir,
                               role_prefix=settings.MQTT_TOPIC_PREFIX)
    return test_broker, process


@pytest.fixture(scope="session")
def dynsec_broker(tmp_path_factory):
    test_broker, process = start_broker(tmp_path_factory.mktemp("mosquitto"))
    yield test_broker
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def broker(dynsec_broker, settings):
    settings.MQTT_URL = dynsec_broker.backend_url
    settings.MQTT_ADMIN_URL = dynsec_broker.admin_url
    publisher.reset()
    broker_admin.reset()
    if dynsec_broker.role_prefix != settings.MQTT_TOPIC_PREFIX:
        dynsec_broker.sync_backend_role()  # a previous test changed the prefix
    yield dynsec_broker
    dynsec_broker.close_probes()
    publisher.reset()
    broker_admin.reset()
