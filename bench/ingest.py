"""End-to-end hub state reports: publish -> broker -> listener -> device row + history point
-> websocket event delivered, for the batched listener (`manage.py mqtt_listen`) and a
naive one-message-one-transaction listener (the seed's shape), side by side.

    python bench/ingest.py [--devices 200] [--latency-rate 1400] [--sustain-rate 2000]
                           [--seconds 15] [--flood 20000]

Starts its own Mosquitto on a free port (persistence on, queue limits raised as in the
project's broker configuration) and the listener as a separate process; creates a
throw-away home in the configured database and deletes it afterwards. Latency is measured
from the publish to the moment a websocket subscriber (a channel-layer group member, as a
socket consumer is) receives the device:update that carries the report's timestamp.
"""
import argparse
import asyncio
import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")
# The subscriber below must not be the bottleneck or drop bursts.
os.environ.setdefault("CHANNELS_CAPACITY", "200000")

from bench.benchdb import use_bench_database  # noqa: E402

use_bench_database()

import django  # noqa: E402

django.setup()

import paho.mqtt.client as mqtt  # noqa: E402
import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from devices.models import Device  # noqa: E402
from homes import services as home_services  # noqa: E402
from homes.models import Room, User  # noqa: E402
from hubs.models import Hub  # noqa: E402
from hubs.mqtt import topics  # noqa: E402
from realtime.events import home_group  # noqa: E402

HOST = "127.0.0.1"
BROKER_CONFIG = """\
listener {port} {host}
allow_anonymous true
persistence true
persistence_location {data}/
autosave_on_changes true
autosave_interval 1000
max_queued_messages 1000000
max_queued_bytes 0
max_inflight_messages 100
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_broker(data: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    (data / "mosquitto.conf").write_text(BROKER_CONFIG.format(port=port, host=HOST, data=data))
    process = subprocess.Popen(["mosquitto", "-c", str(data / "mosquitto.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


# --- the naive listener: one message, one transaction, one publish (run as a subprocess) ---


def naive_listen(url: str) -> None:
    from energy.points import ingest_points
    from energy.timeseries import Point
    from hubs.mqtt.publisher import broker_params
    from realtime import publish

    params = broker_params(url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())

    def on_message(client, userdata, message):
        incoming = topics.parse(message.topic)
        try:
            body = json.loads(message.payload)
            with transaction.atomic():
                device = Device.objects.select_for_update().get(pk=incoming.device_id, hub_id=incoming.hub_id)
                ts = datetime.datetime.fromisoformat(body["ts"])
                device.is_active, device.value = body["state"]["isActive"], body["state"]["value"]
                device.state = {**device.state, **body["state"]}
                device.reported_at = ts
                device.save(update_fields=["is_active", "value", "state", "reported_at", "updated_at"])
                ingest_points(points=[Point(measurement="state", home_id=str(device.home_id), device_id=str(device.pk),
                                            room_id=str(device.room_id), ts=ts,
                                            fields={"isActive": 1.0, "value": float(device.value)})])
                publish(device.home_id, "device:update", {"deviceId": str(device.pk), "state": body["state"],
                                                          "reportedAt": ts.isoformat()})
        except Exception as exc:  # the seed's handler: log and carry on
            sys.stderr.write(f"naive: {exc!r}\n")

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-naive-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311,
                         clean_session=False)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics.subscriptions()])
    client.on_message = on_message
    client.connect(params["host"], params["port"])
    client.loop_start()
    stop.wait()
    client.disconnect()
    client.loop_stop()


# --- measurement ---


def envelope_of(message: dict) -> dict:
    """The event envelope of a layer message (a dict, or JSON text from the Redis script)."""
    return message["envelope"] if "envelope" in message else json.loads(message["text"])


class Subscriber(threading.Thread):
    """A websocket client's view: a channel-layer group member recording receive times."""

    def __init__(self, home_id):
        super().__init__(daemon=True)
        self.home_id, self.received, self.ready = home_id, {}, threading.Event()
        self.done = threading.Event()

    def run(self):
        asyncio.run(self._run())

    async def _run(self):
        config = settings.CHANNEL_LAYERS["default"]
        layer = import_string(config["BACKEND"])(**config.get("CONFIG", {}))
        channel = await layer.new_channel()
        await layer.group_add(home_group(self.home_id), channel)
        self.ready.set()
        while True:
            try:
                envelope = envelope_of(await layer.receive(channel))
            except redis.exceptions.TimeoutError:
                continue
            if envelope["event"] == "bench:done":
                return
            if envelope["event"] == "device:update":
                key = (envelope["data"]["deviceId"], envelope["data"]["reportedAt"])
                self.received.setdefault(key, time.time())


def publish_stream(port: int, hub_id: str, device_ids: list[str], *, rate: float | None, count: int,
                   state=None) -> dict:
    """Publish `count` state reports round-robin over the devices (paced at `rate`/s, or as fast
    as possible), report i with the state `state(i)`; returns {(deviceId, ts): publish time}
    in publishing order."""
    state = state or (lambda i: {"isActive": bool(i % 2), "value": i % 101})
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-hub-{uuid.uuid4().hex[:6]}",
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(HOST, port)
    client.loop_start()
    sent, infos = {}, []
    start = time.monotonic()
    for i in range(count):
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        device_id = device_ids[i % len(device_ids)]
        now = time.time()
        ts = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
        payload = {"state": state(i), "ts": ts}
        infos.append(client.publish(topics.device_report(hub_id, device_id, "state"), json.dumps(payload), qos=1))
        sent[(device_id, ts)] = now
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
    return sent


def run_case(name: str, listener_cmd: list[str], env: dict, port: int, fixture, *, rate, count,
             drain_seconds: float) -> dict:
    home, hub, device_ids = fixture
    subscriber = Subscriber(home.pk)
    subscriber.start()
    subscriber.ready.wait(10)
    process = subprocess.Popen(listener_cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(3)  # connect and subscribe
    try:
        started = time.time()
        sent = publish_stream(port, str(hub.pk), device_ids, rate=rate, count=count)
        publish_seconds = time.time() - started
        deadline = time.time() + drain_seconds
        while len(subscriber.received) < len(sent) and time.time() < deadline:
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:  # a listener far behind (the naive one) is not waited for
            process.kill()
            process.wait(10)
        with transaction.atomic():
            from realtime import publish

            publish(home.pk, "bench:done", {})
        subscriber.join(10)
    latencies = sorted((subscriber.received[k] - t) * 1000 for k, t in sent.items() if k in subscriber.received)
    lost = len(sent) - len(latencies)
    last = max(subscriber.received.values()) if subscriber.received else started
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM energy_reading WHERE home_id = %s AND measurement = 'state'"
                       " AND field = 'value'", [home.pk])
        stored = cursor.fetchone()[0]
        cursor.execute("DELETE FROM energy_reading WHERE home_id = %s", [home.pk])
    return {
        "case": name, "offered": f"{rate:,.0f}/s" if rate else "flood", "reports": len(sent),
        "publish_s": publish_seconds, "throughput": len(latencies) / max(1e-9, last - started),
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else float("nan"),
        "lost": lost, "history": stored,
    }


def make_fixture(devices: int):
    owner = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None, name="Bench")
    home = home_services.home_create(owner=owner, name="Bench home")
    room = Room.objects.create(home=home, name="Bench room")
    hub = Hub.objects.create(home=home, serial_number=f"BENCH-{uuid.uuid4().hex[:10]}", status=Hub.Status.ONLINE)
    ids = [str(Device.objects.create(home=home, room=room, hub=hub, name=f"Lamp {n}", type="light",
                                     category="Zigbee").pk) for n in range(devices)]
    return home, hub, ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--latency-rate", type=float, default=1400)
    parser.add_argument("--sustain-rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--flood", type=int, default=20000)
    parser.add_argument("--drain-seconds", type=float, default=30,
                        help="how long after the last publish a report may still arrive (later = lost)")
    parser.add_argument("--naive-listen", help=argparse.SUPPRESS)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    if args.naive_listen:
        naive_listen(args.naive_listen)
        return

    prefix = f"bench{uuid.uuid4().hex[:6]}"
    settings.MQTT_TOPIC_PREFIX = prefix
    data = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker, port = start_broker(data)
    url = f"mqtt://{HOST}:{port}"
    env = {**os.environ, "MQTT_URL": url, "MQTT_TOPIC_PREFIX": prefix, "MQTT_SHARED_GROUP": "", "LOG_LEVEL": "WARNING"}
    naive = [sys.executable, str(Path(__file__).resolve()), "--naive-listen", url]
    fixture = make_fixture(args.devices)
    rows = []
    try:
        plans = [("latency", args.latency_rate, int(args.latency_rate * args.seconds)),
                 ("sustained", args.sustain_rate, int(args.sustain_rate * args.seconds)),
                 ("flood", None, args.flood)]
        for label, rate, count in plans:
            # A fresh session per case: nothing queued for an earlier case leaks into this one.
            batched = [sys.executable, "manage.py", "mqtt_listen", "--client-id", f"bench-{uuid.uuid4().hex[:8]}"]
            for name, cmd in (("batched", batched), ("naive", naive)):
                if name == "naive" and args.skip_naive:
                    continue
                rows.append({"run": label, **run_case(name, cmd, env, port, fixture, rate=rate, count=count,
                                                      drain_seconds=args.drain_seconds)})
                print(f"  {label:9} {name:7} done", file=sys.stderr)
    finally:
        home = fixture[0]
        Device.objects.filter(home=home).delete()
        Hub.objects.filter(home=home).delete()
        owner = home.owner
        home.delete()
        owner.delete()
        broker.terminate()
        broker.wait(10)

    print(f"\nState reports end to end (publish -> row + history -> websocket event), {args.devices} devices")
    print(f"| run | listener | offered | reports | delivered/s | p50 ms | p99 ms | lost (not delivered {args.drain_seconds:.0f} s after the last publish) | history points |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['run']} | {r['case']} | {r['offered']} | {r['reports']:,} | {r['throughput']:,.0f} | "
              f"{r['p50']:.1f} | {r['p99']:.1f} | {r['lost']} | {r['history']:,} |")


if __name__ == "__main__":
    main()
