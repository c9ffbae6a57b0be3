"""Benchmark: matching device state changes to automations while the database holds many.

    python bench/trigger_matching.py [--automations 1000 10000 100000] [--rate 500] [--seconds 8]

For each count of enabled automations (1 % of them listening to the 200 reporting devices,
the rest to devices elsewhere):

1. **Cost per state change**: the engine's observer (`automations.engine.matching.on_state_changes`,
   what `mqtt_listen` calls for each batch) over batches of 100 state changes of the reporting
   devices, inside a transaction rolled back after each batch: wall time and queries per change;
   and the listener's whole path per report (parse, ingest transaction, observers). Medians
   over the batches. The listening automations trigger above a value the reports never reach,
   so this is matching, not running. Goal: the cost at 100,000 within 1.5x of the cost at 1,000.
2. **Report to command** (first and last counts only): its own Mosquitto, `manage.py
   mqtt_listen` and a Celery worker (`--worker-concurrency` processes, 2 as in the Procfile); simulated hubs publish state reports at
   `rate`/s; 20 automations fire when one of 20 reporting devices (every tenth) turns on, each sending a
   command to a device on a second hub. Latency from the report's publish to that command
   arriving at the second hub's subscriber, p50/p99. Goal: p99 <= 150 ms at 500/s.
"""
import argparse
import datetime
import json
import os
import random
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

from bench.ingest import HOST, make_fixture, publish_stream, start_broker  # noqa: E402  (sets Django up)

import paho.mqtt.client as mqtt  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from automations.engine import matching  # noqa: E402
from automations.models import Automation, AutomationRun, AutomationTrigger  # noqa: E402
from devices.models import Command, Device  # noqa: E402
from devices.state_changes import StateChange  # noqa: E402
from homes import services as home_services  # noqa: E402
from homes.models import Room, User  # noqa: E402
from hubs.models import Hub  # noqa: E402
from hubs.mqtt import topics  # noqa: E402

FIRING = 20


def firing(reporting: list[str]) -> list[str]:
    """The devices the firing automations listen to, spread evenly over the reporting ones (as
    the devices of many homes interleave), not FIRING reports in a row."""
    return reporting[::len(reporting) // FIRING][:FIRING]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def clear_automations(home_ids) -> None:
    with connection.cursor() as cursor:
        for table in ("automations_automationrun", "automations_automationtimer", "automations_automationtrigger",
                      "automations_automation"):
            cursor.execute(f"DELETE FROM {table} WHERE home_id = ANY(%s)", [list(home_ids)])


def fill(total: int, *, home, elsewhere, reporting: list[str], target: str | None) -> None:
    """`total` enabled automations: 1 % on the reporting devices (never firing), the rest on
    devices of another home, plus FIRING that fire on the first devices turning on."""
    rng = random.Random(total)
    listening = max(1, total // 100)
    rows, index = [], []
    for n in range(total):
        mine = n < listening
        device = reporting[n % len(reporting)] if mine else str(uuid.UUID(int=rng.getrandbits(128)))
        trigger = {"type": "device", "deviceId": device, "attribute": "value", "above": 1000}
        rows.append(Automation(home=home if mine else elsewhere, name=f"A{n}", trigger=trigger,
                               actions=[{"type": "notify", "message": "never"}]))
    if target:
        for n in range(FIRING):
            rows.append(Automation(home=home, name=f"Fire {n}", mode="parallel",
                                   trigger={"type": "device", "deviceId": firing(reporting)[n], "attribute": "isActive",
                                            "equals": True},
                                   actions=[{"type": "device", "deviceId": target, "state": {"isActive": True}}]))
    created = Automation.objects.bulk_create(rows, batch_size=5000)
    for automation in created:
        index.append(AutomationTrigger(automation=automation, home_id=automation.home_id, kind="device",
                                       key=automation.trigger["deviceId"], version=automation.updated_at))
    AutomationTrigger.objects.bulk_create(index, batch_size=5000)
    with connection.cursor() as cursor:
        # As a database that has held them a while would be: vacuumed and analysed, so that
        # autovacuum does not start on the new rows in the middle of the measurement.
        cursor.execute("VACUUM (ANALYZE) automations_automation, automations_automationtrigger")


def cost_per_change(home, reporting: list[str], *, batches: int = 60) -> tuple[float, float]:
    """Wall ms and queries per state change through the observer, batches of 100."""
    now = datetime.datetime.now(datetime.UTC)
    timings, queries = [], []
    for b in range(batches):
        changes = [StateChange(home_id=home.pk, device_id=uuid.UUID(d), state={"isActive": False, "value": b % 100},
                               previous={"isActive": False, "value": (b + 1) % 100},
                               ts=now + datetime.timedelta(milliseconds=b)) for d in reporting[:100]]
        with CaptureQueriesContext(connection) as ctx:
            try:
                with transaction.atomic():
                    started = time.perf_counter()
                    matching.on_state_changes(changes)
                    timings.append((time.perf_counter() - started) * 1000 / len(changes))
                    raise _Rollback
            except _Rollback:
                pass
        queries.append(len(ctx.captured_queries) / len(changes))
    # The median: one batch that a busy neighbour on this VM slowed does not move it.
    return statistics.median(timings[10:]), sum(queries[10:]) / len(queries[10:])


class _Rollback(Exception):
    pass


def ingest_per_report(hub, reporting: list[str], *, batches: int = 60, size: int = 100) -> float:
    """Wall ms per state report through what `mqtt_listen` does with a batch (parse, then
    one ingest transaction with the observers), in this process, without the broker: the
    median over the batches after the first five."""
    from hubs.ingest import messages, services

    start = datetime.datetime.now(datetime.UTC)
    timings = []
    for b in range(batches):
        raws = []
        for i in range(size):
            n = b * size + i
            ts = (start + datetime.timedelta(milliseconds=n)).isoformat()
            payload = json.dumps({"state": {"isActive": False, "value": n % 101}, "ts": ts}).encode()
            raws.append(messages.Raw(mid=n + 1, qos=1, topic=topics.device_report(str(hub.pk), reporting[n % 200],
                                                                                  "state"),
                                     payload=payload, retain=False, received_at=datetime.datetime.now(datetime.UTC)))
        started = time.perf_counter()
        services.ingest([messages.parse(raw) for raw in raws])
        timings.append((time.perf_counter() - started) * 1000 / size)
    return statistics.median(timings[5:])


class CommandClock(threading.Thread):
    """The second hub: records when each command arrives."""

    def __init__(self, port: int, hub_id: str):
        super().__init__(daemon=True)
        self.arrived: dict[str, float] = {}
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-actuator-{uuid.uuid4().hex[:6]}")
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics.hub_commands(hub_id)])
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect(HOST, port)

    def _on_message(self, client, userdata, message):
        command_id = json.loads(message.payload).get("commandId")
        self.arrived.setdefault(command_id, time.time())

    def run(self):
        self.client.loop_forever()


def end_to_end(home, hub, reporting: list[str], actuator_hub, *, rate: float, seconds: float,
               concurrency: int) -> dict:
    data = Path(tempfile.mkdtemp(prefix="trigger-bench-"))
    broker, port = start_broker(data)
    queue = f"trigger-bench-{uuid.uuid4().hex[:6]}"
    env = os.environ | {"MQTT_URL": f"mqtt://{HOST}:{port}", "CELERY_QUEUE": queue, "MQTT_SHARED_GROUP": queue}
    clock = CommandClock(port, str(actuator_hub.pk))
    clock.start()
    clock.ready.wait(10)
    processes = [
        subprocess.Popen([sys.executable, "manage.py", "mqtt_listen"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(data / "listener.log", "wb")),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "veahome", "worker", "-Q", queue, "-c",
                          str(concurrency), "-l", "WARNING"], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=open(data / "worker.log", "wb")),
    ]
    time.sleep(6)  # connect, subscribe, warm up
    try:
        # Each device turns on and off on alternate rounds; the value changes with every report.
        def state(i):
            return {"isActive": (i // len(reporting)) % 2 == 1, "value": i % 101}

        times = publish_stream(port, str(hub.pk), reporting, rate=rate, count=int(rate * seconds), state=state)
        sent = {key: (at, state(i)["isActive"]) for i, (key, at) in enumerate(times.items())}
        time.sleep(5)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        broker.terminate()
        clock.client.disconnect()
    runs = list(AutomationRun.objects.filter(home=home, automation__name__startswith="Fire")
                .values_list("trigger", "trace", "created_at", "started_at"))
    commands = {str(pk): (created, sent_at) for pk, created, sent_at in
                Command.objects.filter(home=home).values_list("pk", "created_at", "sent_at")}
    latencies, missing, slowest = [], 0, []
    first_report = min(at for at, _on in sent.values())
    stages = {"report -> run stored (listener)": [], "run stored -> started (hand-off to the worker)": [],
              "started -> command stored (the run)": [], "command stored -> broker took it": [],
              "broker took it -> at the hub": []}
    for trigger, trace, created_at, started_at in runs:
        published = sent.get((trigger["deviceId"], trigger["at"]), (None,))[0]
        command_id = (trace.get("actions") or [{}])[0].get("devices", [{}])[0].get("commandId")
        if (published is None or started_at is None or command_id not in clock.arrived
                or command_id not in commands):
            missing += 1
            continue
        latencies.append((clock.arrived[command_id] - published) * 1000)
        command_created, command_sent = commands[command_id]
        points = [published, created_at.timestamp(), started_at.timestamp(), command_created.timestamp(),
                  command_sent.timestamp() if command_sent else clock.arrived[command_id], clock.arrived[command_id]]
        for (name, values), a, b in zip(stages.items(), points, points[1:]):
            values.append((b - a) * 1000)
        slowest.append((latencies[-1], published - first_report,
                        "+".join(f"{(b - a) * 1000:.0f}" for a, b in zip(points, points[1:]))))
    expected = sum(1 for (device, _ts), (_t, on) in sent.items() if on and device in firing(reporting))
    slowest.sort(reverse=True)
    print("  slowest runs (ms after the report, at s into the stream): "
          + ", ".join(f"{ms:.0f} at {at:.1f} ({parts})" for ms, at, parts in slowest[:5]))
    return {"reports": len(sent), "runs": len(runs), "expected": expected, "missing": missing,
            "p50": percentile(latencies, 50), "p99": percentile(latencies, 99), "max": max(latencies, default=0),
            "stages": {name: (percentile(v, 50), percentile(v, 99)) for name, v in stages.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--automations", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--worker-concurrency", type=int, default=2,
                        help="worker processes (prefork), as the Procfile's worker runs")
    args = parser.parse_args()

    print(f"load average at start: {os.getloadavg()}")
    home, hub, reporting = make_fixture(200)
    owner = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None, name="Bench")
    elsewhere = home_services.home_create(owner=owner, name="Bench elsewhere")
    actuator_hub = Hub.objects.create(home=home, serial_number=f"BENCH-{uuid.uuid4().hex[:10]}",
                                      status=Hub.Status.ONLINE)
    target = str(Device.objects.create(home=home, room=Room.objects.filter(home=home).first(), hub=actuator_hub,
                                       name="Target", type="light", category="Zigbee").pk)
    costs, e2e = [], []
    try:
        for total in args.automations:
            clear_automations([home.pk, elsewhere.pk])
            print(f"{total:,} automations: filling", flush=True)
            fill(total, home=home, elsewhere=elsewhere, reporting=reporting, target=target)
            ms, queries = cost_per_change(home, reporting)
            listener_ms = ingest_per_report(hub, reporting)
            costs.append((total, ms, queries, listener_ms))
            print(f"  observer: {ms * 1000:.1f} us and {queries:.3f} queries per state change; "
                  f"listener path {listener_ms * 1000:.0f} us per report", flush=True)
            if not args.skip_end_to_end and total in (args.automations[0], args.automations[-1]):
                AutomationRun.objects.filter(home=home).delete()
                print(f"  end to end at {args.rate:.0f}/s for {args.seconds:.0f} s", flush=True)
                e2e.append((total, end_to_end(home, hub, reporting, actuator_hub, rate=args.rate,
                                              seconds=args.seconds, concurrency=args.worker_concurrency)))
    finally:
        clear_automations([home.pk, elsewhere.pk])
        for h in (home, elsewhere):
            h.delete()
    print(f"load average at end: {os.getloadavg()}")
    print()
    base, base_listener = costs[0][1], costs[0][3]
    print("| enabled automations | listening to the reporting devices | listener path per state report (us) | vs the first | of which the engine's matching (us) | vs the first | queries per state change (matching) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for total, ms, queries, listener_ms in costs:
        print(f"| {total:,} | {max(1, total // 100):,} | {listener_ms * 1000:.0f} | {listener_ms / base_listener:.2f}x | "
              f"{ms * 1000:.1f} | {ms / base:.2f}x | {queries:.3f} |")
    if e2e:
        print()
        print(f"| enabled automations | reports at {args.rate:.0f}/s | runs fired / expected | report -> command at the hub p50 / p99 / max (ms) | without a command |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for total, r in e2e:
            print(f"| {total:,} | {r['reports']:,} | {r['runs']} / {r['expected']} | "
                  f"{r['p50']:.1f} / {r['p99']:.1f} / {r['max']:.1f} | {r['missing']} |")
        print()
        print("| enabled automations | stage | p50 ms | p99 ms |")
        print("| ---: | --- | ---: | ---: |")
        for total, r in e2e:
            for name, (p50, p99) in r["stages"].items():
                print(f"| {total:,} | {name} | {p50:.1f} | {p99:.1f} |")


if __name__ == "__main__":
    main()
