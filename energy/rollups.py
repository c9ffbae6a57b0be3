"""Rollups: 5-minute, hourly and daily buckets on each home's local calendar.

Writers mark (home, UTC hour) pairs dirty in the same transaction as their points; the
periodic task drains that queue and rebuilds exactly the buckets those hours touch:
5-minute buckets from raw points, local hours from 5-minute buckets, local days from
hours. Rebuilding (delete + insert) instead of adding makes late and repeated points safe.

Hourly and daily buckets are computed in SQL from the home's IANA zone: a local hour
is truncated with the UTC offset in force at that instant, so the repeated hour of an
autumn DST change stays two buckets, and a local day is [local midnight, next local
midnight), 23 or 25 hours long on DST days.
"""
import datetime
import logging
import zoneinfo
from collections import defaultdict
from typing import Iterable

from django.db import connection, transaction

from .timeseries import get_backend

logger = logging.getLogger(__name__)

UTC = datetime.timezone.utc
HOUR = datetime.timedelta(hours=1)
LOCK_KEY = 0x4E52_0001  # one rollup builder at a time, across processes

COLUMNS = "size, bucket, home_id, room_id, device_id, measurement, field, count, sum, min, max, last, last_ts"


def mark_dirty(points: Iterable) -> None:
    """Queue the (home, hour) pairs a batch touched. One statement per batch."""
    keys = sorted({(p.home_id, p.ts.astimezone(UTC).replace(minute=0, second=0, microsecond=0)) for p in points})
    if not keys:
        return
    values = ", ".join(["(%s, %s)"] * len(keys))
    params = [x for key in keys for x in key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO energy_rollup_dirty (home_id, hour) VALUES {values} ON CONFLICT DO NOTHING", params
        )


def _runs(hours: list[datetime.datetime]) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """Contiguous runs of hour starts as half-open ranges."""
    runs: list[list[datetime.datetime]] = []
    for hour in sorted(hours):
        if runs and runs[-1][1] == hour:
            runs[-1][1] = hour + HOUR
        else:
            runs.append([hour, hour + HOUR])
    return [(a, b) for a, b in runs]


def _shared_runs(homes_by_hour: dict) -> list[tuple]:
    """Contiguous hours dirty for the same set of homes, as (start, end, home_ids)."""
    runs: list[list] = []
    for hour in sorted(homes_by_hour):
        homes = sorted(homes_by_hour[hour])
        if runs and runs[-1][1] == hour and runs[-1][2] == homes:
            runs[-1][1] = hour + HOUR
        else:
            runs.append([hour, hour + HOUR, homes])
    return [tuple(run) for run in runs]


def local_hour_floor(ts: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    local = ts.astimezone(tz)
    return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)


def local_midnight(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=tz).astimezone(UTC)


def _local_hour_sql(column: str) -> str:
    # Truncate in local time with the offset in force at `column`, then undo that offset.
    local = f"({column} AT TIME ZONE %(tz)s)"
    return f"((date_trunc('hour', {local}) - ({local} - ({column} AT TIME ZONE 'UTC'))) AT TIME ZONE 'UTC')"


def _local_day_sql(column: str) -> str:
    return f"(date_trunc('day', {column} AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s)"


def _fill_5m_generic(cursor, home_id, start, end) -> None:
    rows = get_backend().aggregate(window=datetime.timedelta(minutes=5), home_id=home_id, start=start, end=end)
    if not rows:
        return
    with cursor.copy(f"COPY energy_rollup ({COLUMNS}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(("5m", r.bucket, home_id, r.room_id or None, r.device_id, r.measurement, r.field,
                            r.count, r.sum, r.min, r.max, r.last, r.last_ts))


def _rebuild_from(cursor, *, size, source, bucket_sql, home_id, tz, start, end) -> None:
    cursor.execute(
        "DELETE FROM energy_rollup WHERE home_id = %(home)s AND size = %(size)s AND bucket >= %(start)s AND bucket < %(end)s",
        {"home": home_id, "size": size, "start": start, "end": end},
    )
    cursor.execute(
        f"""
        INSERT INTO energy_rollup ({COLUMNS})
        SELECT %(size)s, {bucket_sql}, home_id, room_id, device_id, measurement, field,
               sum(count), sum(sum), min(min), max(max), (max(ARRAY[extract(epoch FROM last_ts)::float8, last]))[2], max(last_ts)
        FROM energy_rollup
        WHERE home_id = %(home)s AND size = %(source)s AND bucket >= %(start)s AND bucket < %(end)s
        GROUP BY 2, 3, 4, 5, 6, 7
        """,
        {"size": size, "source": source, "home": home_id, "tz": tz.key, "start": start, "end": end},
    )


def rebuild_5m(*, home_ids: list[str], start: datetime.datetime, end: datetime.datetime) -> None:
    """Rebuild the 5-minute rollups of these homes over [start, end) from raw points."""
    backend = get_backend()
    with connection.cursor() as cursor:
        # Big rebuilds (demo data, backfills) aggregate in memory instead of spilling to disk.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            "DELETE FROM energy_rollup WHERE home_id = ANY(%s::uuid[]) AND size = '5m' AND bucket >= %s AND bucket < %s",
            [list(home_ids), start, end],
        )
        if hasattr(backend, "rollup_5m"):
            backend.rollup_5m(cursor=cursor, home_ids=home_ids, start=start, end=end)
        else:
            for home_id in home_ids:
                _fill_5m_generic(cursor, home_id, start, end)


def rebuild_calendar(*, home_id: str, tz: zoneinfo.ZoneInfo, start: datetime.datetime, end: datetime.datetime) -> None:
    """Rebuild the local hours and days of one home that overlap [start, end) from its 5-minute rollups."""
    hour_start, hour_end = local_hour_floor(start, tz), local_hour_floor(end - datetime.timedelta(microseconds=1), tz) + HOUR
    day_start = local_midnight(start.astimezone(tz).date(), tz)
    day_end = local_midnight((end - datetime.timedelta(microseconds=1)).astimezone(tz).date() + datetime.timedelta(days=1), tz)
    with connection.cursor() as cursor:
        _rebuild_from(cursor, size="1h", source="5m", bucket_sql=_local_hour_sql("bucket"),
                      home_id=home_id, tz=tz, start=hour_start, end=hour_end)
        _rebuild_from(cursor, size="1d", source="1h", bucket_sql=_local_day_sql("bucket"),
                      home_id=home_id, tz=tz, start=day_start, end=day_end)


def rebuild(*, home_id: str, tz: zoneinfo.ZoneInfo, start: datetime.datetime, end: datetime.datetime) -> None:
    """Rebuild every rollup of one home that covers [start, end) (UTC hour boundaries).

    Runs inside the caller's transaction (SET LOCAL needs one)."""
    rebuild_5m(home_ids=[home_id], start=start, end=end)
    rebuild_calendar(home_id=home_id, tz=tz, start=start, end=end)


def _timezones(home_ids) -> dict[str, zoneinfo.ZoneInfo]:
    from homes.models import Home

    return {str(pk): zoneinfo.ZoneInfo(tz) for pk, tz in Home.objects.filter(pk__in=list(home_ids)).values_list("pk", "timezone")}


def run_pending(*, limit: int = 5000) -> int:
    """Drain the dirty queue (up to `limit` hours) and rebuild what it names. Returns hours processed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                return 0
            cursor.execute(
                """
                DELETE FROM energy_rollup_dirty WHERE (home_id, hour) IN (
                    SELECT home_id, hour FROM energy_rollup_dirty ORDER BY hour LIMIT %s
                ) RETURNING home_id::text, hour
                """,
                [limit],
            )
            pending = cursor.fetchall()
        by_home: dict[str, list] = defaultdict(list)
        for home_id, hour in pending:
            by_home[home_id].append(hour)
        zones = _timezones(by_home)
        by_home = {home_id: hours for home_id, hours in by_home.items() if home_id in zones}  # deleted meanwhile
        # Raw points are scanned once per run of hours for every home dirty in it: the
        # readings table is ordered by time, not by home, so per-home scans would repeat.
        homes_by_hour: dict[datetime.datetime, list[str]] = defaultdict(list)
        for home_id, hours in by_home.items():
            for hour in hours:
                homes_by_hour[hour].append(home_id)
        for start, end, home_ids in _shared_runs(homes_by_hour):
            rebuild_5m(home_ids=home_ids, start=start, end=end)
        for home_id, hours in by_home.items():
            for start, end in _runs(hours):
                rebuild_calendar(home_id=home_id, tz=zones[home_id], start=start, end=end)
    if pending:
        logger.info("rolled up %d hours of %d homes", len(pending), len(by_home))
    return len(pending)


def run_all_pending() -> int:
    total = 0
    while True:
        done = run_pending()
        total += done
        if done == 0:
            return total
