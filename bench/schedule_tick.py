"""Benchmark: many schedules due at the same instant, fired by real Celery workers and beat.

Usage: python bench/schedule_tick.py [--homes 5000] [--per-home 4] [--zones 20] [--workers 2 1]

Every schedule of `homes` x `per-home`, spread over `zones` time zones, is due at the same
instant (its local wall time there). For each worker count: start that many Celery workers
(one process each) and a beat, wait until every schedule has its run, then report how late
the runs fired (`firedAt - dueAt`) and how late their commands left for the broker
(`sentAt - dueAt`, after the batch's commit), p50/p99/max, and duplicates (runs per
(schedule, due time) beyond one; commands beyond one per run). Goal: all within 5 s, 0
duplicates, with 2 workers.
"""
import argparse
import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402

ZONES = ["UTC", "Europe/London", "Europe/Madrid", "Europe/Berlin", "Europe/Helsinki", "Europe/Moscow",
         "Asia/Dubai", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney",
         "Australia/Adelaide", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York", "America/Chicago",
         "America/Denver", "America/Los_Angeles", "Pacific/Honolulu"]
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
PREFIX = "tick-bench"


def clear():
    from django.db import connection

    with connection.cursor() as cursor:
        home_ids = f"(SELECT id FROM homes_home WHERE name LIKE '{PREFIX}%%')"
        for table in ("automations_schedulerun", "automations_schedule", "devices_command", "devices_device",
                      "hubs_hub", "homes_room"):
            cursor.execute(f"DELETE FROM {table} WHERE home_id IN {home_ids}")
        cursor.execute(f"DELETE FROM homes_home WHERE name LIKE '{PREFIX}%%'")


def prepare(homes: int, per_home: int, zones: int, due: datetime.datetime) -> int:
    from automations.models import Schedule
    from devices.models import Device
    from homes.models import Home, Room, User
    from hubs.models import Hub

    clear()
    owner, _ = User.objects.get_or_create(email="tick-bench@veahome.local")
    run = uuid.uuid4().hex[:6]
    home_rows = Home.objects.bulk_create([Home(owner=owner, name=f"{PREFIX} {n}", timezone=ZONES[n % zones])
                                          for n in range(homes)], batch_size=2000)
    rooms = Room.objects.bulk_create([Room(home=h, name="Room") for h in home_rows], batch_size=2000)
    hubs = Hub.objects.bulk_create([Hub(home=h, serial_number=f"TB{run}{n:06d}", name="Hub", status=Hub.Status.ONLINE)
                                    for n, h in enumerate(home_rows)], batch_size=2000)
    devices = Device.objects.bulk_create([Device(home=h, room=r, hub=hub, name="Lamp", type="light", category="Zigbee")
                                          for h, r, hub in zip(home_rows, rooms, hubs)], batch_size=2000)
    schedules = []
    for home, device in zip(home_rows, devices):
        local = due.astimezone(home.tz).time()
        for n in range(per_home):
            schedules.append(Schedule(home=home, name=f"S{n}", time=local, days=EVERY_DAY, next_run_at=due,
                                      actions=[{"type": "device", "deviceId": str(device.pk),
                                                "state": {"isActive": n % 2 == 0}}]))
    Schedule.objects.bulk_create(schedules, batch_size=2000)
    return len(schedules)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


def measure(total: int, due: datetime.datetime, timeout: float) -> dict:
    from django.db import connection

    deadline = time.monotonic() + timeout
    done = 0
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM automations_schedulerun r JOIN homes_home h ON h.id = r.home_id "
                           f"WHERE h.name LIKE '{PREFIX}%%'")
            done = cursor.fetchone()[0]
            print(f"\r  runs {done:>6}/{total}", end="", flush=True)
            if done >= total:
                break
            time.sleep(0.25)
        print()
        time.sleep(2)  # let the last batch's commands leave
        cursor.execute("SELECT extract(epoch FROM r.fired_at - r.due_at), r.schedule_id, r.status "
                       "FROM automations_schedulerun r JOIN homes_home h ON h.id = r.home_id "
                       f"WHERE h.name LIKE '{PREFIX}%%'")
        rows = cursor.fetchall()
        cursor.execute("SELECT extract(epoch FROM c.sent_at - %s), c.status FROM devices_command c "
                       f"JOIN homes_home h ON h.id = c.home_id WHERE h.name LIKE '{PREFIX}%%'", [due])
        commands = cursor.fetchall()
    fired = [float(r[0]) for r in rows if r[0] is not None]
    per_second: dict[int, int] = {}
    for value in fired:
        per_second[int(value)] = per_second.get(int(value), 0) + 1
    print("  fired per second after the due instant: "
          + ", ".join(f"{second}s: {count}" for second, count in sorted(per_second.items())))
    sent = [float(c[0]) for c in commands if c[0] is not None]
    return {
        "runs": len(rows), "duplicates": len(rows) - len({r[1] for r in rows}),
        "late_or_missed": sum(1 for r in rows if r[2] != "on_time"),
        "fired_p50": percentile(fired, 50), "fired_p99": percentile(fired, 99), "fired_max": max(fired, default=float("nan")),
        "commands": len(commands), "unsent": sum(1 for c in commands if c[0] is None),
        "sent_p50": percentile(sent, 50), "sent_p99": percentile(sent, 99), "sent_max": max(sent, default=float("nan")),
    }


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "veahome", *args, "-l", "WARNING"], cwd=ROOT,
                            env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--homes", type=int, default=5000)
    parser.add_argument("--per-home", type=int, default=4)
    parser.add_argument("--zones", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--lead", type=float, default=30, help="seconds from setup to the due instant")
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", uuid.uuid4().hex * 2)
    use_bench_database()
    import django

    django.setup()
    from django.utils import timezone
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(name="Fire due schedules", defaults={
        "task": "automations.schedules_tick", "interval": every, "enabled": True, "expire_seconds": 5})
    print(f"load average at start: {os.getloadavg()}")
    results = []
    for workers in args.workers:
        due = (timezone.now() + datetime.timedelta(seconds=args.lead + 60)).replace(second=0, microsecond=0)
        print(f"{workers} worker(s): preparing {args.homes * args.per_home} schedules due at {due:%H:%M:%S} UTC")
        total = prepare(args.homes, args.per_home, args.zones, due)
        queue = f"tick-bench-{uuid.uuid4().hex[:6]}"
        env = os.environ | {"CELERY_QUEUE": queue, "MQTT_TOPIC_PREFIX": "tick-bench"}
        logs = Path("/tmp") / queue
        logs.mkdir()
        processes = [start(["worker", "-Q", queue, "-c", "1", "--pool", "solo", "-n", f"w{n}-{queue}@%h"], env,
                           logs / f"worker{n}.log") for n in range(workers)]
        processes.append(start(["beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                                "--pidfile=", "-s", str(logs / "beat-schedule")], env, logs / "beat.log"))
        try:
            wait = (due - timezone.now()).total_seconds()
            print(f"  waiting {wait:.0f} s for the due instant")
            time.sleep(max(0.0, wait))
            result = measure(total, due, args.timeout)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
        results.append((workers, total, result))
        clear()
    print(f"load average at end: {os.getloadavg()}")
    print()
    print("| workers | schedules | runs | duplicates | late/missed | fired p50 / p99 / max (s) | commands sent p50 / p99 / max (s) | unsent |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for workers, total, r in results:
        print(f"| {workers} | {total:,} | {r['runs']:,} | {r['duplicates']} | {r['late_or_missed']} | "
              f"{r['fired_p50']:.2f} / {r['fired_p99']:.2f} / {r['fired_max']:.2f} | "
              f"{r['sent_p50']:.2f} / {r['sent_p99']:.2f} / {r['sent_max']:.2f} | {r['unsent']} |")


if __name__ == "__main__":
    main()
