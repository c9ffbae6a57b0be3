"""A simulated hub: its own MQTT session, retained status with a last will, state and
telemetry reports, and answers to control and learn requests like a real hub (including,
now and then, none at all)."""
import datetime
import json
import logging
import random
import threading
import time
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from hubs.mqtt import topics

from .behaviour import SimDevice

logger = logging.getLogger(__name__)


@dataclass
class Connection:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


class SimulatedHub:
    def __init__(self, *, hub_id: str, devices: list[SimDevice], connection: Connection,
                 answer_rate: float = 0.95, answer_delay: tuple[float, float] = (0.02, 0.3),
                 seed: int | None = None):
        self.hub_id = str(hub_id)
        self.devices = {d.id: d for d in devices}
        self.answer_rate = answer_rate
        self.answer_delay = answer_delay
        self.rng = random.Random(seed)
        self.sent = 0
        self.commands_seen = 0
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.hub_id,
                                  protocol=mqtt.MQTTv311, clean_session=False)
        if connection.username:
            self.client.username_pw_set(connection.username, connection.password)
        if connection.tls:
            self.client.tls_set()
        # The broker announces the hub's death for it: the retained status becomes offline.
        self.client.will_set(topics.hub_status(self.hub_id), json.dumps({"status": "offline"}), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self._connection = connection

    # -- connection --

    def start(self) -> None:
        self.client.connect_async(self._connection.host, self._connection.port, keepalive=30)
        self.client.loop_start()

    def stop(self, *, graceful: bool = True) -> None:
        if graceful and self.connected.is_set():
            self.publish(topics.hub_status(self.hub_id), {"status": "offline", "ts": now_iso()}, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("hub %s refused by the broker: %s", self.hub_id, reason_code)
            return
        client.subscribe([(topic, 1) for topic in topics.hub_commands(self.hub_id)])
        self.publish(topics.hub_status(self.hub_id), {"status": "online", "ts": now_iso()}, retain=True)
        self.connected.set()

    # -- reports --

    def publish(self, topic: str, payload: dict, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        with self._lock:
            self.sent += 1
        return self.client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1, retain=retain)

    def report_state(self, device: SimDevice, command_id: str | None = None) -> mqtt.MQTTMessageInfo:
        payload = {"deviceId": device.id, "hubId": self.hub_id, "state": device.state(), "ts": now_iso()}
        if command_id:
            payload["commandId"] = command_id
        return self.publish(topics.device_report(self.hub_id, device.id, "state"), payload)

    def report_telemetry(self, device: SimDevice) -> mqtt.MQTTMessageInfo:
        payload = {"ts": now_iso(), **device.telemetry(self.rng)}
        return self.publish(topics.device_report(self.hub_id, device.id, "telemetry"), payload)

    def heartbeat(self) -> None:
        self.publish(topics.hub_status(self.hub_id), {"status": "online", "ts": now_iso()}, retain=True)

    def tick(self) -> None:
        """One reporting round for one random device: telemetry, and state if it drifted."""
        if not self.devices:
            return
        device = self.rng.choice(list(self.devices.values()))
        if device.wander(self.rng) and device.reports_back:
            self.report_state(device)
        elif device.reports_back or self.rng.random() < 0.5:
            self.report_telemetry(device)

    # -- requests from the cloud --

    def _on_message(self, client, userdata, message):
        try:
            request = json.loads(message.payload)
        except ValueError:
            logger.warning("hub %s got a malformed request on %s", self.hub_id, message.topic)
            return
        parts = message.topic.split("/")
        kind, device_id = parts[-1], parts[-2] if len(parts) >= 2 else None
        if kind == "config":
            return  # Wi-Fi settings: a simulated hub is always on the network
        device = self.devices.get(device_id)
        if device is None:
            logger.warning("hub %s has no device %s", self.hub_id, device_id)
            return
        with self._lock:
            self.commands_seen += 1
        if self.rng.random() >= self.answer_rate:
            logger.info("hub %s ignores %s for %s (simulated loss)", self.hub_id, kind, device_id)
            return
        delay = self.rng.uniform(*self.answer_delay)
        threading.Timer(delay, self._answer, args=(kind, device, request)).start()

    def _answer(self, kind: str, device: SimDevice, request: dict) -> None:
        if kind == "control":
            device.apply(request)
            if device.reports_back:
                self.report_state(device, command_id=request.get("commandId"))
        elif kind == "learn":
            signal = f"0x{self.rng.getrandbits(32):08X}"
            self.publish(topics.device_report(self.hub_id, device.id, "learned"),
                         {"sessionId": request.get("sessionId"), "action": request.get("action"), "signal": signal})


def run_hubs(hubs: list[SimulatedHub], *, rate: float, stop: threading.Event, heartbeat_seconds: float = 60) -> None:
    """Drive every hub at `rate` reports per second each until `stop` is set."""
    for hub in hubs:
        hub.start()
    interval = 1.0 / rate if rate > 0 else None
    next_beat = time.monotonic() + heartbeat_seconds
    next_tick = time.monotonic()
    while not stop.is_set():
        if interval is None:
            stop.wait(1)
        else:
            for hub in hubs:
                if hub.connected.is_set():
                    hub.tick()
            next_tick += interval
            stop.wait(max(0.0, next_tick - time.monotonic()))
        if time.monotonic() >= next_beat:
            for hub in hubs:
                if hub.connected.is_set():
                    hub.heartbeat()
            next_beat += heartbeat_seconds
    for hub in hubs:
        hub.stop()
