"""Benchmark: an alert storm next to ordinary traffic, through the real listener and worker.

    python bench/alert_storm.py [--homes 1000] [--storm-seconds 10] [--flood 8000]

`homes` homes, each with a hub, a leak sensor and one contact with an email address; and one
home of 200 lamps for ordinary state reports. Its own Mosquitto, `manage.py mqtt_listen`, a
Celery worker of 2 processes (as in the Procfile) mailing a real SMTP server (aiosmtpd) here.

1. **Alone**: `flood` ordinary state reports as fast as one client publishes them; the
   listener's throughput for them (first publish -> every lamp showing its last report).
2. **With the storm**: the same flood while 10 leak reports per sensor arrive over
   `storm-seconds` (10,000 reports, 1,000 distinct causes): the flood's throughput again, side by
   side, and afterwards every alert raised once (occurrences 10) and the emails = contacts x alerts.

Goal: every alert once, emails exactly contacts x alerts, ordinary throughput with the storm
>= 0.8x without it.
"""
import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email import message_from_bytes
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import HOST, make_fixture, publish_stream, start_broker  # noqa: E402  (sets Django up)

import paho.mqtt.client as mqtt  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from alerts import services as alert_services  # noqa: E402
from alerts.models import Alert, Notification  # noqa: E402
from devices.models import Device  # noqa: E402
from homes.models import Home, Room, User  # noqa: E402
from hubs.models import Hub  # noqa: E402
from hubs.mqtt import topics  # noqa: E402

PREFIX = "storm-bench"
LAMPS = 200


class Mailbox:
    def __init__(self):
        self.count = 0
        self.alerts: set[str] = set()

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        self.alerts.add(message_from_bytes(envelope.content)["X-VeaHome-Alert"])
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def storm_fixture(homes: int) -> tuple[list, list]:
    owner = User.objects.create_user(email=f"{PREFIX}-{uuid.uuid4().hex[:8]}@example.com", password=None, name="S")
    rows = Home.objects.bulk_create([Home(owner=owner, name=f"{PREFIX} {n}", timezone="Europe/Madrid")
                                     for n in range(homes)])
    rooms = Room.objects.bulk_create([Room(home=h, name="Cellar") for h in rows])
    hubs = Hub.objects.bulk_create([Hub(home=h, serial_number=f"SB-{uuid.uuid4().hex[:12]}", status=Hub.Status.ONLINE)
                                    for h in rows])
    sensors = Device.objects.bulk_create([Device(home=h, room=r, hub=hub, name="Leak", type="sensor",
                                                 category="Sensor") for h, r, hub in zip(rows, rooms, hubs)])
    for n, home in enumerate(rows):
        alert_services.contact_create(home=home, name="Owner", email=f"owner{n}@example.com", tier=1)
    return rows, sensors


def flood(port: int, hub, lamps: list[str], count: int, round_base: int) -> float:
    """Publish `count` state reports as fast as possible; the seconds until every lamp shows its
    last one (the listener applied them all)."""
    rounds = count // len(lamps)
    last = (round_base + rounds - 1) % 100
    started = time.monotonic()
    publish_stream(port, str(hub.pk), lamps, rate=None, count=rounds * len(lamps),
                   state=lambda i: {"isActive": True, "value": (round_base + i // len(lamps)) % 100})
    while Device.objects.filter(pk__in=lamps, value=last).count() < len(lamps):
        if time.monotonic() - started > 120:
            raise RuntimeError("the listener did not apply the flood within 120 s")
        time.sleep(0.05)
    return time.monotonic() - started


def storm(port: int, sensors: list, seconds: float, per_sensor: int) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{PREFIX}-{uuid.uuid4().hex[:6]}",
                         protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect(HOST, port)
    client.loop_start()
    total = len(sensors) * per_sensor
    start = time.monotonic()
    infos = []
    for i in range(total):
        delay = start + i * seconds / total - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sensor = sensors[i % len(sensors)]
        infos.append(client.publish(topics.device_report(str(sensor.hub_id), str(sensor.pk), "telemetry"),
                                    json.dumps({"leak": 1}), qos=1))
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--per-sensor", type=int, default=10)
    parser.add_argument("--storm-seconds", type=float, default=10)
    parser.add_argument("--flood", type=int, default=8000)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    print(f"load average at start: {os.getloadavg()}")
    home, hub, lamps = make_fixture(LAMPS)
    homes, sensors = storm_fixture(args.homes)
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
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "veahome", "worker", "-Q", queue, "-c", "2",
                          "-l", "WARNING"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=open(data / "worker.log", "wb")),
    ]
    expected_alerts = len(sensors)
    try:
        time.sleep(6)
        flood(port, hub, lamps, LAMPS * 5, round_base=0)  # warm up
        alone = flood(port, hub, lamps, args.flood, round_base=10)
        print(f"  alone: {args.flood} reports in {alone:.2f} s", flush=True)
        stormer = threading.Thread(target=storm, args=(port, sensors, args.storm_seconds, args.per_sensor))
        stormer.start()
        time.sleep(args.storm_seconds / 4)  # the storm is under way
        beside = flood(port, hub, lamps, args.flood, round_base=60)
        print(f"  with the storm: {args.flood} reports in {beside:.2f} s", flush=True)
        stormer.join()
        deadline = time.monotonic() + 90
        while (box.count < expected_alerts or Alert.objects.filter(home__in=homes).count() < expected_alerts) \
                and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # anything more would show now
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        broker.terminate()
        controller.stop()
    alerts = list(Alert.objects.filter(home__in=homes).values_list("source_id", "occurrences"))
    emails_planned = Notification.objects.filter(home__in=homes, channel="email").count()
    distinct = len({source for source, _ in alerts})
    occurrences = sum(n for _, n in alerts)
    for h in [*homes, home]:
        h.delete()
    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| storm | alerts raised / distinct causes | occurrences / storm reports | email deliveries planned | emails received (distinct alerts) | ordinary reports/s alone | with the storm | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {len(sensors) * args.per_sensor:,} reports in {args.storm_seconds:.0f} s, {len(sensors):,} homes | "
          f"{len(alerts):,} / {distinct:,} | {occurrences:,} / {len(sensors) * args.per_sensor:,} | {emails_planned:,} | "
          f"{box.count:,} ({len(box.alerts):,}) | {args.flood / alone:,.0f} | {args.flood / beside:,.0f} | "
          f"{alone / beside:.2f}x |")


if __name__ == "__main__":
    main()
