"""Cost of per-hub broker accounts: provisioning latency as accounts grow, and QoS 1 throughput
through the dynamic-security ACL checks against an anonymous broker without the plugin.

    python bench/hub_accounts.py [--accounts 2000] [--messages 20000]

Starts its own brokers on free ports (the project's configuration) and stops them.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402

use_bench_database()

import django  # noqa: E402

django.setup()

import paho.mqtt.client as mqtt  # noqa: E402
from django.conf import settings  # noqa: E402

from hubs import broker  # noqa: E402
from hubs.mqtt import topics  # noqa: E402
from tests.mqtt_broker import free_port, start_broker, wait_port  # noqa: E402


def client(port, username=None, password=None, client_id=None):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or uuid.uuid4().hex, protocol=mqtt.MQTTv311)
    if username:
        c.username_pw_set(username, password)
    c.max_inflight_messages_set(100)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    if not connected.wait(5):
        raise RuntimeError("connect failed")
    return c


def throughput(port, publisher_creds, subscriber_creds, topic, filter_, messages):
    received = threading.Event()
    count = [0]
    sub = client(port, *subscriber_creds)

    def on_message(c, u, m):
        count[0] += 1
        if count[0] >= messages:
            received.set()

    sub.on_message = on_message
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.subscribe(filter_, qos=1)
    subscribed.wait(5)
    pub = client(port, *publisher_creds)
    payload = json.dumps({"deviceId": "d", "state": {"isActive": True, "value": 42}, "ts": 1795380000}).ljust(100)
    start = time.perf_counter()
    for _ in range(messages):
        pub.publish(topic, payload, qos=1)
    if not received.wait(120):
        raise RuntimeError(f"only {count[0]} of {messages} arrived")
    elapsed = time.perf_counter() - start
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return messages / elapsed


def anonymous_broker(data_dir):
    port = free_port()
    conf = Path(data_dir) / "anon.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n")
    process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, process)
    return port, process


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dyn, dyn_process = start_broker(Path(tmp) / "dynsec")
        anon_port, anon_process = anonymous_broker(tmp)
        try:
            settings.MQTT_ADMIN_URL = dyn.admin_url
            bands = [b for b in (100, 500, 1000, 2000, 5000, 10000) if b <= args.accounts] or [args.accounts]
            created, hub_ids = 0, []
            for band in bands:
                timings = []
                while created < band:
                    hub_id = uuid.uuid4()
                    t = time.perf_counter()
                    broker.hub_account_set(hub_id=hub_id, password=f"pw-{hub_id.hex}")
                    timings.append((time.perf_counter() - t) * 1000)
                    hub_ids.append(hub_id)
                    created += 1
                rows.append((f"provision (create role + client) at {band} accounts", f"p50 {statistics.median(timings):.1f} ms, "
                             f"p99 {sorted(timings)[int(len(timings) * 0.99) - 1]:.1f} ms"))

            hub_id = hub_ids[0]
            hub_creds = (broker.hub_username(hub_id), f"pw-{hub_id.hex}", str(hub_id))
            backend_creds = (dyn.backend.username, dyn.backend.password, None)
            state_topic = f"{topics.hub_root(hub_id)}/devices/d/state"
            rate_dyn = throughput(dyn.port, hub_creds, backend_creds, state_topic, topics.hub_all("+"), args.messages)
            rate_anon = throughput(anon_port, (None, None, None), (None, None, None), state_topic, topics.hub_all("+"), args.messages)
            rows.append((f"QoS 1 hub -> backend, anonymous broker, no plugin ({args.messages} msgs)", f"{rate_anon:,.0f} msg/s"))
            rows.append((f"QoS 1 hub -> backend through dynsec ACLs, {created} accounts", f"{rate_dyn:,.0f} msg/s"))

            live = client(dyn.port, *hub_creds)
            gone = threading.Event()
            live.on_disconnect = lambda *a: gone.set()
            live.reconnect_delay_set(30, 60)
            t = time.perf_counter()
            broker.hub_account_delete(hub_id=hub_id)
            gone.wait(5)
            rows.append(("unpair: deleteClient until the hub's connection is closed", f"{(time.perf_counter() - t) * 1000:.1f} ms"))
            live.loop_stop()
        finally:
            broker.reset()
            for process in (dyn_process, anon_process):
                process.terminate()
                process.wait(5)
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | result |")
    print(f"| {'-' * width} | --- |")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
