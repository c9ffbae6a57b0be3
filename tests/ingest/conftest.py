"""A real Mosquitto (persistence on, queue limits raised) on a free port, a listener running
against it, simulated hubs, and a real channel-layer subscription to a home's feed."""
import asyncio
import json
import queue
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.utils.module_loading import import_string

from hubs.ingest.listener import Listener
from hubs.mqtt import publisher
from hubs.simulator.behaviour import SimDevice
from hubs.simulator.hub import Connection, SimulatedHub
from realtime.events import home_group

HOST = "127.0.0.1"

CONFIG = """\
listener {port} {host}
allow_anonymous true
persistence true
persistence_location {data}/
autosave_on_changes true
autosave_interval 100
# Raised on purpose: the default 1000 drops QoS 1 messages for a slow persistent session.
max_queued_messages 200000
max_queued_bytes 0
max_inflight_messages 100
log_dest file {data}/mosquitto.log
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Mosquitto:
    def __init__(self, data: Path):
        self.data, self.port, self.process = data, free_port(), None
        (data / "mosquitto.conf").write_text(CONFIG.format(port=self.port, host=HOST, data=data))

    @property
    def url(self) -> str:
        return f"mqtt://{HOST}:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.data / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory):
    broker = Mosquitto(tmp_path_factory.mktemp("ingest-broker"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def mqtt(mosquitto, settings):
    """Point the backend's publisher at the test broker; a topic prefix per test keeps
    retained messages and sessions of one test away from the next."""
    settings.MQTT_URL = mosquitto.url
    settings.MQTT_TOPIC_PREFIX = f"t{uuid.uuid4().hex[:8]}"
    settings.COMMAND_TIMEOUT_SECONDS = 30
    publisher.reset()
    yield mosquitto
    publisher.reset()


@pytest.fixture
def listener(mqtt, transactional_db):
    """The ingest listener, running in this process as `mqtt_listen` would."""
    running = []

    def start(**kwargs) -> Listener:
        kwargs.setdefault("client_id", f"listen-{uuid.uuid4().hex[:8]}")
        kwargs.setdefault("shared_group", "")
        instance = Listener(url=mqtt.url, **kwargs)
        thread = threading.Thread(target=instance.run, daemon=True)
        thread.start()
        assert instance.subscribed.wait(10), "listener did not subscribe"
        running.append((instance, thread))
        return instance

    yield start
    for instance, thread in running:
        instance.stop()
        thread.join(10)


@pytest.fixture
def sim_hub(mqtt):
    """A simulated hub for a Hub row and its devices, connected to the test broker."""
    hubs = []

    def start(hub, devices, **kwargs) -> SimulatedHub:
        kwargs.setdefault("answer_rate", 1.0)
        kwargs.setdefault("answer_delay", (0.0, 0.01))
        sim = SimulatedHub(
            hub_id=str(hub.pk),
            devices=[SimDevice(id=str(d.pk), type=d.type, category=d.category, is_active=d.is_active,
                               value=float(d.value) if d.value is not None else None) for d in devices],
            connection=Connection(HOST, mqtt.port), seed=1, **kwargs)
        sim.start()
        assert sim.connected.wait(10), "simulated hub did not connect"
        hubs.append(sim)
        return sim

    yield start
    for sim in hubs:
        sim.stop(graceful=False)


class Feed:
    """A home's websocket feed as the channel layer delivers it (real Redis): a group member
    with its own layer instance and event loop in a thread, as a socket consumer has."""

    def __init__(self, home_id):
        self.home_id = home_id
        self.inbox: "queue.Queue[dict]" = queue.Queue()
        self.seen: list[dict] = []
        self.claimed: set = set()
        self._ready = threading.Event()
        threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True).start()
        assert self._ready.wait(10), "feed did not join the home's group"

    async def _run(self):
        config = settings.CHANNEL_LAYERS["default"]
        layer = import_string(config["BACKEND"])(**config.get("CONFIG", {}))
        channel = await layer.new_channel()
        await layer.group_add(home_group(self.home_id), channel)
        self._ready.set()
        # No timeout around receive: cancelling it can drop the message it popped.
        while True:
            try:
                message = await layer.receive(channel)
                # A dict envelope, or its JSON text as the realtime publish script sends it.
                self.inbox.put(message["envelope"] if "envelope" in message else json.loads(message["text"]))
            except redis.exceptions.TimeoutError:
                continue

    def _matches(self, envelope, event, match) -> bool:
        return (envelope["id"] not in self.claimed and envelope["event"] == event
                and all(envelope["data"].get(k) == v for k, v in match.items()))

    def wait_for(self, event: str, timeout: float = 10, **match) -> dict:
        """The first envelope of `event` whose data has the given values and that no earlier
        wait_for returned (or fail)."""
        deadline = time.monotonic() + timeout
        while True:
            while True:
                try:
                    self.seen.append(self.inbox.get_nowait())
                except queue.Empty:
                    break
            for envelope in self.seen:
                if self._matches(envelope, event, match):
                    self.claimed.add(envelope["id"])
                    return envelope
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event} {match} within {timeout}s; saw {[e['event'] for e in self.seen]}")
            try:
                self.seen.append(self.inbox.get(timeout=min(remaining, 0.2)))
            except queue.Empty:
                pass

    def events(self, event: str) -> list[dict]:
        while True:
            try:
                self.seen.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return [e for e in self.seen if e["event"] == event]


@pytest.fixture
def feed():
    return Feed


def wait_until(check, timeout: float = 10, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def history(home, *, measurement: str, field: str, device=None) -> list:
    """What the time-series store holds for a home (the device history endpoint's source)."""
    import datetime

    from energy.timeseries import read_range

    return read_range(home_id=str(home.pk), start=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc),
                      end=datetime.datetime(2100, 1, 1, tzinfo=datetime.timezone.utc), measurement=measurement,
                      fields=(field,), device_id=str(device.pk) if device else None)
