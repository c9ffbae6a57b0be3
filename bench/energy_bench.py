"""Energy store benchmark: write throughput of both backends, and a year's monthly per-device
breakdown from rollups versus from raw points.

    python bench/energy_bench.py

Uses the benchmarks' database (bench/benchdb.py). Writes its year of data into 2023 partitions and drops them at the end.
"""
import argparse
import datetime
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402

use_bench_database()

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from energy import rollups  # noqa: E402
from energy.points import ingest_points  # noqa: E402
from energy.timeseries import Point  # noqa: E402
from energy.timeseries.influx import InfluxBackend  # noqa: E402
from energy.timeseries.postgres import PostgresBackend, month_start, next_month, partition_name  # noqa: E402
from homes.models import Home, User  # noqa: E402

UTC = datetime.timezone.utc
YEAR = 2023


def make_points(home_id, devices, n, start):
    return [
        Point("telemetry", home_id, devices[i % len(devices)], start + datetime.timedelta(seconds=i // len(devices)),
              {"power": 100.0 + (i % 37), "energy": 0.5 + (i % 11) / 10}, None)
        for i in range(n)
    ]


def timed_writes(write, points, batch):
    began = time.perf_counter()
    for i in range(0, len(points), batch):
        write(points[i:i + batch])
    return len(points) / (time.perf_counter() - began)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_influxd():
    root = Path(tempfile.mkdtemp(prefix="bench-influx-"))
    port = free_port()
    (root / "c.conf").write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n[meta]\n  dir = "{root}/meta"\n'
        f'[data]\n  dir = "{root}/data"\n  wal-dir = "{root}/wal"\n  query-log-enabled = false\n'
        f'[monitor]\n  store-enabled = false\n[http]\n  bind-address = "127.0.0.1:{port}"\n  log-enabled = false\n'
    )
    process = subprocess.Popen(["influxd", "-config", str(root / "c.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 204:
                return process, url, root
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("influxd did not start")


def bench_home(name, tz="Europe/Madrid"):
    owner, _ = User.objects.get_or_create(email="bench@veahome.local", defaults={"name": "Bench"})
    return Home.objects.create(owner=owner, name=name, timezone=tz)


def write_benchmarks(n):
    home = bench_home("bench writes")
    devices = [str(uuid.uuid4()) for _ in range(20)]
    start = datetime.datetime(YEAR, 3, 1, tzinfo=UTC)
    rows = []
    pg = PostgresBackend()
    for batch in (500, 5000):
        points = make_points(str(home.pk), devices, n, start + datetime.timedelta(days=batch // 500))
        rate = timed_writes(pg.write_points, points, batch)
        rows.append(("postgres", f"write_points, batch {batch}", rate, rate * 2))
    single = [Point(p.measurement, p.home_id, p.device_id, p.ts, {"power": p.fields["power"]}, None)
              for p in make_points(str(home.pk), devices, n, start + datetime.timedelta(days=15))]
    rate = timed_writes(pg.write_points, single, 5000)
    rows.append(("postgres", "write_points, batch 5000, 1 field per point", rate, rate))
    points = make_points(str(home.pk), devices, n, start + datetime.timedelta(days=20))
    rate = timed_writes(lambda b: ingest_points(points=b), points, 500)
    rows.append(("postgres", "ingest_points (+rollup queue, live power), batch 500", rate, rate * 2))
    if shutil.which("influxd"):
        process, url, root = start_influxd()
        try:
            influx = InfluxBackend(url=url, database="bench")
            for batch in (500, 5000):
                points = make_points(str(home.pk), devices, n, start + datetime.timedelta(days=batch // 500))
                rate = timed_writes(influx.write_points, points, batch)
                rows.append(("influxdb 1.6", f"write_points, batch {batch}", rate, rate * 2))
        finally:
            process.terminate()
            process.wait()
            shutil.rmtree(root, ignore_errors=True)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM energy_rollup_dirty WHERE home_id = %s", [home.pk])
    return home, rows


def year_benchmark(devices_count, repeats):
    home = bench_home("bench year")
    tz = home.tz
    start = datetime.datetime(YEAR, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime.datetime(YEAR + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    devices = [uuid.uuid4() for _ in range(devices_count)]
    rooms = [uuid.uuid4() for _ in range(4)]
    months, m = [], month_start(start)
    while m < end:
        months.append(m)
        m = next_month(m)
    PostgresBackend().ensure_partitions(months)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for index, device in enumerate(devices):
            # One reading a minute: energy in Wh with a daily shape; generated server-side.
            cursor.execute(
                """
                INSERT INTO energy_reading (ts, home_id, room_id, device_id, measurement, field, value)
                SELECT t, %s, %s, %s, 'telemetry', 'energy',
                       0.5 + 0.4 * sin(extract(epoch FROM t) / 13751.0 + %s)
                FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 minute', interval '1 minute') AS t
                """,
                [home.pk, rooms[index % len(rooms)], device, index, start, end],
            )
        cursor.execute("ANALYZE energy_reading")
    load_s = time.perf_counter() - began
    began = time.perf_counter()
    with transaction.atomic():
        rollups.rebuild(home_id=str(home.pk), tz=tz, start=start, end=end)
    rollup_s = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE energy_rollup")
        cursor.execute("SELECT count(*) FROM energy_reading WHERE home_id = %s", [home.pk])
        raw_rows = cursor.fetchone()[0]

    def breakdown(table_sql):
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(table_sql, {"home": home.pk, "tz": tz.key, "start": start, "end": end})
            result = cursor.fetchall()
            return (time.perf_counter() - t) * 1000, result

    from_rollups = """
        SELECT device_id, date_trunc('month', bucket AT TIME ZONE %(tz)s) AS month, sum(sum) / 1000
        FROM energy_rollup WHERE home_id = %(home)s AND size = '1d' AND bucket >= %(start)s AND bucket < %(end)s
          AND measurement = 'telemetry' AND field = 'energy'
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    from_raw = """
        SELECT device_id, date_trunc('month', ts AT TIME ZONE %(tz)s) AS month, sum(value) / 1000
        FROM energy_reading WHERE home_id = %(home)s AND ts >= %(start)s AND ts < %(end)s
          AND measurement = 'telemetry' AND field = 'energy'
        GROUP BY 1, 2 ORDER BY 1, 2
    """
    rollup_times, rollup_result = [], None
    for _ in range(repeats):
        ms, rollup_result = breakdown(from_rollups)
        rollup_times.append(ms)
    raw_times, raw_result = [], None
    for _ in range(max(1, repeats // 3)):
        ms, raw_result = breakdown(from_raw)
        raw_times.append(ms)
    same = [(d, m, round(v, 6)) for d, m, v in rollup_result] == [(d, m, round(v, 6)) for d, m, v in raw_result]
    from energy import periods, selectors

    report_times = []
    for _ in range(repeats):
        year, previous = periods.period_spans("year", datetime.date(YEAR, 6, 1), tz)
        t = time.perf_counter()
        report = selectors.energy_report(home, year, previous, label="year")
        report_times.append((time.perf_counter() - t) * 1000)
    assert report["totalKwh"] > 0
    return home, {
        "raw_rows": raw_rows, "load_s": load_s, "rollup_s": rollup_s,
        "rollup_ms": statistics.median(rollup_times), "raw_ms": statistics.median(raw_times),
        "report_ms": statistics.median(report_times),
        "groups": len(rollup_result), "same": same, "devices": devices_count,
    }


def cleanup(homes):
    with connection.cursor() as cursor:
        for home in homes:
            cursor.execute("DELETE FROM energy_rollup WHERE home_id = %s", [home.pk])
            cursor.execute("DELETE FROM energy_rollup_dirty WHERE home_id = %s", [home.pk])
        m = datetime.datetime(YEAR - 1, 12, 1, tzinfo=UTC)
        while m < datetime.datetime(YEAR + 1, 2, 1, tzinfo=UTC):
            cursor.execute(f"DROP TABLE IF EXISTS {partition_name(m)}")
            m = next_month(m)
    for home in homes:
        home.delete()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000, help="points per write run (2 fields each)")
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--skip-year", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    args = parser.parse_args()
    homes = []
    try:
        if not args.skip_writes:
            home, rows = write_benchmarks(args.points)
            homes.append(home)
            print(f"\nWrite throughput ({args.points:,} points of 2 fields per run)\n")
            print("| backend | path | points/s | field values/s |")
            print("| --- | --- | ---: | ---: |")
            for backend, path, rate, values in rows:
                print(f"| {backend} | {path} | {rate:,.0f} | {values:,.0f} |")
        if not args.skip_year:
            home, r = year_benchmark(args.devices, args.repeats)
            homes.append(home)
            print(f"\nOne year of 1-minute energy readings, {r['devices']} devices ({r['raw_rows']:,} raw rows): "
                  f"loaded in {r['load_s']:.1f} s, rolled up in {r['rollup_s']:.1f} s\n")
            print("| monthly per-device breakdown of the year | median ms | groups | same result |")
            print("| --- | ---: | ---: | --- |")
            print(f"| from daily rollups | {r['rollup_ms']:.1f} | {r['groups']} | {r['same']} |")
            print(f"| from raw points | {r['raw_ms']:.1f} | {r['groups']} | {r['same']} |")
            print(f"\nThe energy endpoint's report for that year (per device, per room, cost, previous year): "
                  f"{r['report_ms']:.1f} ms median")
    finally:
        cleanup(homes)


if __name__ == "__main__":
    main()
