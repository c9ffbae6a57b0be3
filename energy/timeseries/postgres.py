"""PostgreSQL backend: a monthly-partitioned, append-only readings table written with COPY.

One row per field value (narrow layout): any device type's fields fit without schema
changes and every aggregate is a plain GROUP BY. Partitions are created on demand, so
retention drops whole months; a BRIN index on `ts` keeps range scans cheap at almost no
write cost, and one B-tree on (device_id, ts) serves a device's history.
"""
import datetime
import logging
from typing import Iterable

import psycopg

from django.db import DatabaseError, connection, transaction

from .base import AggRow, Backend, Filter, Row

logger = logging.getLogger(__name__)

UTC = datetime.timezone.utc
TABLE = "energy_reading"
COLUMNS = "ts, home_id, room_id, device_id, measurement, field, value"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def month_start(ts: datetime.datetime) -> datetime.datetime:
    ts = ts.astimezone(UTC)
    return datetime.datetime(ts.year, ts.month, 1, tzinfo=UTC)


def next_month(start: datetime.datetime) -> datetime.datetime:
    return start.replace(year=start.year + (start.month == 12), month=start.month % 12 + 1)


def partition_name(start: datetime.datetime) -> str:
    return f"{TABLE}_{start:%Y%m}"


def _where(flt: Filter, alias: str = "") -> tuple[str, list]:
    p = f"{alias}." if alias else ""
    clauses = [f"{p}home_id = %s", f"{p}ts >= %s", f"{p}ts < %s"]
    params: list = [flt.home_id, flt.start, flt.end]
    if flt.device_id:
        clauses.append(f"{p}device_id = %s")
        params.append(flt.device_id)
    if flt.room_id:
        clauses.append(f"{p}room_id = %s")
        params.append(flt.room_id)
    if flt.fields:
        clauses.append(f"{p}field = ANY(%s)")
        params.append(list(flt.fields))
    if flt.measurement:
        clauses.append(f"{p}measurement = %s")
        params.append(flt.measurement)
    return " AND ".join(clauses), params


class PostgresBackend(Backend):
    name = "postgres"

    def __init__(self):
        # Partitions known to exist in this process: creating one is a catalog write, so
        # the write path only pays for it once per month per process.
        self._partitions: set[str] = set()
        self._escape_cache: dict[str, str] = {}

    def ensure_partitions(self, months: Iterable[datetime.datetime]) -> None:
        missing = [m for m in months if partition_name(m) not in self._partitions]
        if not missing:
            return
        with connection.cursor() as cursor:
            for start in missing:
                name = partition_name(start)
                # A lock serialises concurrent creators (web, worker, listener) of the same month.
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
                    f"FOR VALUES FROM (%s) TO (%s)",
                    [start, next_month(start)],
                )
                self._partitions.add(name)

    def write_points(self, points: Iterable) -> int:
        from . import numeric_fields

        # COPY text built by hand: one formatted timestamp per point and cached escapes for
        # names, instead of psycopg adapting every value of every row.
        lines = []
        months = set()
        written = 0
        esc = self._escaped
        for point in points:
            values = numeric_fields(point.fields)
            if not values:
                continue
            ts = point.ts if point.ts.tzinfo is UTC else point.ts.astimezone(UTC)
            month = (ts.year, ts.month)
            if month not in months:
                months.add(month)
            written += 1
            prefix = f"{ts.isoformat()}\t{esc(point.home_id)}\t{esc(point.room_id)}\t{esc(point.device_id)}\t{esc(point.measurement)}\t"
            for key, value in values.items():
                lines.append(f"{prefix}{esc(key)}\t{value!r}\n")
        if not lines:
            return 0
        data = "".join(lines).encode()
        month_starts = {datetime.datetime(y, m, 1, tzinfo=UTC) for y, m in months}
        try:
            self._copy(data, month_starts)
        except (DatabaseError, psycopg.Error):
            # A partition this process believed in is gone (dropped by retention elsewhere,
            # or its creation was rolled back): forget what we knew and try once more.
            self._partitions.clear()
            self._copy(data, month_starts)
        return written

    def stored(self, *, measurement: str, keys: set[tuple[str, datetime.datetime]]) -> set[tuple[str, datetime.datetime]]:
        """One indexed lookup on (device_id, ts) for the whole set."""
        if not keys:
            return set()
        devices, stamps = zip(*sorted(keys))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT r.device_id::text, r.ts FROM {TABLE} r"
                " JOIN unnest(%s::uuid[], %s::timestamptz[]) AS k(device_id, ts)"
                " ON r.device_id = k.device_id AND r.ts = k.ts WHERE r.measurement = %s",
                [list(devices), list(stamps), measurement])
            return {(device_id, ts) for device_id, ts in cursor.fetchall()}

    def _escaped(self, text) -> str:
        if text is None:
            return "\\N"
        cached = self._escape_cache.get(text)
        if cached is None:
            cached = str(text).translate(_COPY_ESCAPES)
            if len(self._escape_cache) < 100_000:
                self._escape_cache[text] = cached
        return cached

    def _copy(self, data: bytes, months: set) -> None:
        with transaction.atomic():
            self.ensure_partitions(sorted(months))
            with connection.cursor() as cursor:
                with cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
                    copy.write(data)

    def read_range(self, *, limit: int | None = None, **filters) -> list[Row]:
        flt = Filter(**filters)
        where, params = _where(flt)
        sql = (
            f"SELECT ts, device_id::text, room_id::text, measurement, field, value FROM {TABLE} "
            f"WHERE {where} ORDER BY ts, device_id, field"
        )
        if limit:
            sql += " LIMIT %s"
            params.append(limit)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [Row(*r) for r in cursor.fetchall()]

    def aggregate(self, *, window: datetime.timedelta, **filters) -> list[AggRow]:
        flt = Filter(**filters)
        where, params = _where(flt)
        sql = f"""
            SELECT date_bin(%s, ts, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
                   device_id::text, room_id::text, measurement, field,
                   count(*), sum(value), min(value), max(value),
                   (max(ARRAY[extract(epoch FROM ts)::float8, value]))[2], max(ts)
            FROM {TABLE} WHERE {where}
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 5
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [window, *params])
            return [AggRow(*r) for r in cursor.fetchall()]

    def rollup_5m(self, *, cursor, home_ids: list[str], start: datetime.datetime, end: datetime.datetime) -> None:
        """Fill 5-minute rollups of some homes for [start, end) straight from the readings table,
        in one scan of that time range."""
        cursor.execute(
            f"""
            INSERT INTO energy_rollup (size, bucket, home_id, room_id, device_id, measurement, field,
                                       count, sum, min, max, last, last_ts)
            SELECT '5m', date_bin('5 minutes', ts, TIMESTAMPTZ '2000-01-01 00:00:00+00'),
                   home_id, room_id, device_id, measurement, field,
                   count(*), sum(value), min(value), max(value),
                   (max(ARRAY[extract(epoch FROM ts)::float8, value]))[2], max(ts)
            FROM {TABLE} WHERE home_id = ANY(%s::uuid[]) AND ts >= %s AND ts < %s
            GROUP BY 2, 3, 4, 5, 6, 7
            """,
            [list(home_ids), start, end],
        )

    def delete_before(self, ts: datetime.datetime) -> None:
        """Drop whole partitions older than `ts`, then trim the one that straddles it."""
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = %s::regclass
                """,
                [TABLE],
            )
            for name, _bound in cursor.fetchall():
                try:
                    start = datetime.datetime.strptime(name.rsplit("_", 1)[1], "%Y%m").replace(tzinfo=UTC)
                except ValueError:
                    continue
                if next_month(start) <= ts:
                    cursor.execute(f"DROP TABLE IF EXISTS {name}")
                    self._partitions.discard(name)
                    logger.info("dropped readings partition %s", name)
            cursor.execute(f"DELETE FROM {TABLE} WHERE ts < %s", [ts])

    def drop_all(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
