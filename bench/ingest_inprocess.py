"""Benchmark: the listener's work per hub state report, in this process, without the broker.

Usage: python bench/ingest_inprocess.py [--devices 200] [--batch 100] [--batches 200] [--profile N]

Builds the messages `mqtt_listen` would take off the network (state reports of `devices`
lights on one hub, each report a new state) and runs them through what the listener does
with a batch: `hubs.ingest.messages.parse` for each, then `hubs.ingest.services.ingest` for
the batch (one transaction: rows, history points, live events, observers). Prints wall time,
this process's CPU time and queries per report; PostgreSQL's and Redis's own CPU are not in
the CPU figure. Steadier than bench/ingest.py for comparing two versions of the code on a
busy machine; `--profile N` prints the N most expensive functions (cProfile, cumulative).
"""
import argparse
import cProfile
import datetime
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
    use_bench_database()
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from devices.models import Device
    from homes import services as home_services
    from homes.models import Room, User
    from hubs.ingest import messages, services
    from hubs.models import Hub
    from hubs.mqtt import topics

    owner = User.objects.create_user(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", password=None, name="Bench")
    home = home_services.home_create(owner=owner, name="Ingest bench")
    room = Room.objects.create(home=home, name="Room")
    hub = Hub.objects.create(home=home, serial_number=f"BENCH-{uuid.uuid4().hex[:10]}", status=Hub.Status.ONLINE)
    Device.objects.bulk_create([Device(home=home, room=room, hub=hub, name=f"Lamp {n}", type="light",
                                       category="Zigbee") for n in range(args.devices)])
    device_ids = [str(pk) for pk in Device.objects.filter(home=home).values_list("pk", flat=True)]
    start = datetime.datetime.now(datetime.UTC)

    def batch(number: int) -> list:
        raws = []
        for i in range(args.batch):
            n = number * args.batch + i
            ts = (start + datetime.timedelta(milliseconds=n)).isoformat()
            device = device_ids[n % len(device_ids)]
            payload = json.dumps({"state": {"isActive": bool(n % 2), "value": n % 101}, "ts": ts}).encode()
            raws.append(messages.Raw(mid=n + 1, qos=1, topic=topics.device_report(str(hub.pk), device, "state"),
                                     payload=payload, retain=False,
                                     received_at=datetime.datetime.now(datetime.UTC)))
        return raws

    def run(numbers) -> tuple[float, float, int]:
        wall = cpu = 0.0
        queries = 0
        for number in numbers:
            raws = batch(number)
            with CaptureQueriesContext(connection) as ctx:
                w, c = time.perf_counter(), time.process_time()
                services.ingest([messages.parse(raw) for raw in raws])
                wall += time.perf_counter() - w
                cpu += time.process_time() - c
            queries += len(ctx.captured_queries)
        return wall, cpu, queries

    try:
        print(f"load average at start: {os.getloadavg()}")
        run(range(10))  # warm-up
        wall, cpu, queries = run(range(10, 10 + args.batches))
        reports = args.batches * args.batch
        print(f"load average at end: {os.getloadavg()}")
        print()
        print("| reports | batch | wall us/report | CPU us/report (this process) | queries/batch |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        print(f"| {reports:,} | {args.batch} | {wall / reports * 1e6:.0f} | {cpu / reports * 1e6:.0f} | "
              f"{queries / args.batches:.1f} |")
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run(range(10 + args.batches, 10 + 2 * args.batches))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM energy_reading WHERE home_id = %s", [home.pk])
        home.delete()


if __name__ == "__main__":
    main()
