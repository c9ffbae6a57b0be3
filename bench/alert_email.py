"""Benchmark: a critical alert raised by a sensor report over MQTT, to the email received.

    python bench/alert_email.py [--homes 50] [--sensors 10] [--rate 50] [--seconds 10]

`homes` homes, each with one hub, `sensors` leak sensors and one tier-1 contact with an email
address (the default policy: critical alerts by email, push and in-app). A simulated hub
publishes `leak: 1` telemetry for a different sensor each time, at `rate`/s: every report is
a new cause, so a new critical alert and one email. Its own Mosquitto, `manage.py mqtt_listen`
and a Celery worker of 2 processes (as in the Procfile), mailing a real SMTP server (aiosmtpd)
in this process. Latency: the report's publish -> the message at the SMTP server (matched by its
X-VeaHome-Alert header), p50 / p99 / max. Goal: p99 <= 2 s at 50 alerts/s.
"""
import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import HOST, start_broker  # noqa: E402  (sets Django up)

import paho.mqtt.client as mqtt  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from alerts import services as alert_services  # noqa: E402
from alerts.models import Alert  # noqa: E402
from devices.models import Device  # noqa: E402
from homes import services as home_services  # noqa: E402
from homes.models import Room, User  # noqa: E402
from hubs.models import Hub  # noqa: E402
from hubs.mqtt import topics  # noqa: E402

PREFIX = "alert-bench"


class Mailbox:
    def __init__(self):
        self.arrived: dict[str, float] = {}

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        self.arrived.setdefault(message["X-VeaHome-Alert"], time.time())
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def fixture(homes: int, sensors: int) -> tuple[list, list]:
    owner = User.objects.create_user(email=f"{PREFIX}-{uuid.uuid4().hex[:8]}@example.com", password=None, name="B")
    made, devices = [], []
    for n in range(homes):
        home = home_services.home_create(owner=owner, name=f"{PREFIX} {n}")
        room = Room.objects.create(home=home, name="Cellar")
        hub = Hub.objects.create(home=home, serial_number=f"AB-{uuid.uuid4().hex[:12]}", status=Hub.Status.ONLINE)
        for s in range(sensors):
            devices.append(Device.objects.create(home=home, room=room, hub=hub, name=f"Leak {s}", type="sensor",
                                                 category="Sensor"))
        alert_services.contact_create(home=home, name="Owner", email=f"owner{n}@example.com", tier=1)
        made.append(home)
    return made, devices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=50)
    parser.add_argument("--sensors", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-command lines
    print(f"load average at start: {os.getloadavg()}")
    homes, devices = fixture(args.homes, args.sensors)
    count = min(len(devices), int(args.rate * args.seconds))
    box, smtp_port = Mailbox(), free_port()
    controller = Controller(box, hostname=HOST, port=smtp_port)
    controller.start()
    data = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
    broker, port = start_broker(data)
    queue = f"{PREFIX}-{uuid.uuid4().hex[:6]}"
    env = os.environ | {"MQTT_URL": f"mqtt://{HOST}:{port}", "CELERY_QUEUE": queue, "MQTT_SHARED_GROUP": queue,
                        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": HOST,
                        "EMAIL_PORT": str(smtp_port)}
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "mqtt_listen"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(data / "listener.log", "wb")),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "veahome", "worker", "-Q", queue, "-c",
                          str(args.worker_concurrency), "-l", "WARNING"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(data / "worker.log", "wb")),
    ]
    sent: dict[str, float] = {}
    try:
        time.sleep(6)  # connect, subscribe, warm up
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{PREFIX}-hub", protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(1000)
        client.connect(HOST, port)
        client.loop_start()
        print(f"{count} sensors report a leak at {args.rate:.0f}/s", flush=True)
        start = time.monotonic()
        for i, device in enumerate(devices[:count]):
            delay = start + i / args.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent[str(device.pk)] = time.time()
            client.publish(topics.device_report(str(device.hub_id), str(device.pk), "telemetry"),
                           json.dumps({"leak": 1}), qos=1)
        deadline = time.monotonic() + 30
        while len(box.arrived) < count and time.monotonic() < deadline:
            print(f"\r  emails {len(box.arrived):>5}/{count}", end="", flush=True)
            time.sleep(0.25)
        print(f"\r  emails {len(box.arrived):>5}/{count}")
        client.disconnect()
        client.loop_stop()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        broker.terminate()
        controller.stop()
    alerts = {str(pk): str(source) for pk, source in
              Alert.objects.filter(home__in=homes).values_list("pk", "source_id")}
    latencies = [(at - sent[alerts[alert_id]]) * 1000 for alert_id, at in box.arrived.items()
                 if alert_id in alerts and alerts[alert_id] in sent]
    duplicates = len(alerts) - len({source for source in alerts.values()})
    for home in homes:
        home.delete()
    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| alerts/s | reports | alerts raised | emails received | duplicate alerts | publish -> email p50 / p99 / max (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {args.rate:.0f} | {count} | {len(alerts)} | {len(latencies)} | {duplicates} | "
          f"{percentile(latencies, 50):.0f} / {percentile(latencies, 99):.0f} / {max(latencies, default=0):.0f} |")


if __name__ == "__main__":
    main()
