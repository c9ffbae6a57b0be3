"""A device's history sized for a chart: raw points, windows over raw points, or rollups by range."""
import datetime
from collections import defaultdict

from django.conf import settings
from django.db import connection

from .timeseries import get_backend

INTERVALS = {
    "1m": datetime.timedelta(minutes=1),
    "5m": datetime.timedelta(minutes=5),
    "15m": datetime.timedelta(minutes=15),
    "1h": datetime.timedelta(hours=1),
    "6h": datetime.timedelta(hours=6),
    "1d": datetime.timedelta(days=1),
    "1w": datetime.timedelta(days=7),
}
# Which rollup serves each window; windows under 5 minutes come from raw points.
ROLLUP_FOR = {"5m": "5m", "15m": "5m", "1h": "1h", "6h": "1h", "1d": "1d", "1w": "1d"}


class TooManyPoints(ValueError):
    pass


def pick_interval(span: datetime.timedelta, max_points: int) -> str:
    for name, width in INTERVALS.items():
        if span / width <= max_points:
            return name
    return "1w"


def _rollup_rows(*, device, size, interval, tz, start, end, fields):
    if interval == size:
        bucket_sql = "bucket"
    elif interval == "1w":
        bucket_sql = "(date_trunc('week', bucket AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s)"
    else:
        # Local-midnight origin, so 15-minute and 6-hour windows line up with the home's clock.
        bucket_sql = "date_bin(%(width)s, bucket, (date_trunc('day', %(start)s AT TIME ZONE %(tz)s) AT TIME ZONE %(tz)s))"
    field_sql = "AND field = ANY(%(fields)s)" if fields else ""
    sql = f"""
        SELECT {bucket_sql} AS b, measurement, field, sum(count)::bigint, sum(sum), min(min), max(max),
               (max(ARRAY[extract(epoch FROM last_ts)::float8, last]))[2]
        FROM energy_rollup
        WHERE device_id = %(device)s AND size = %(size)s AND bucket >= %(start)s AND bucket < %(end)s {field_sql}
        GROUP BY 1, 2, 3 ORDER BY 1
    """
    params = {"tz": tz.key, "width": INTERVALS[interval], "start": start, "end": end,
              "device": device.pk, "size": size, "fields": list(fields or [])}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def device_history(*, device, start, end, interval: str = "auto", fields=None) -> dict:
    """At most ENERGY_HISTORY_MAX_POINTS points per field; raises TooManyPoints when a
    requested interval would exceed it."""
    max_points = settings.ENERGY_HISTORY_MAX_POINTS
    span = end - start
    home_id, tz = str(device.home_id), device.home.tz
    series: dict[str, list] = defaultdict(list)
    fields = tuple(fields) if fields else None
    if interval == "auto":
        interval = pick_interval(span, max_points)
    if interval == "raw":
        rows = get_backend().read_range(home_id=home_id, device_id=str(device.pk), start=start, end=end,
                                        fields=fields, limit=max_points * 8 + 1)
        for row in rows:
            series[row.field].append({"ts": row.ts.isoformat(), "mean": row.value, "min": row.value,
                                      "max": row.value, "last": row.value, "count": 1})
        if len(rows) > max_points * 8 or any(len(points) > max_points for points in series.values()):
            raise TooManyPoints(f"More than {max_points} raw points per field; ask for an interval.")
        source = "raw"
    else:
        if span / INTERVALS[interval] > max_points:
            raise TooManyPoints(f"{interval} over this range is more than {max_points} points; use a wider interval.")
        size = ROLLUP_FOR.get(interval)
        if size is None:
            rows = get_backend().aggregate(window=INTERVALS[interval], home_id=home_id, device_id=str(device.pk),
                                           start=start, end=end, fields=fields)
            for r in rows:
                series[r.field].append({"ts": r.bucket.isoformat(), "mean": r.mean, "min": r.min, "max": r.max,
                                        "last": r.last, "count": r.count})
            source = "raw"
        else:
            for bucket, _measurement, field, count, total, low, high, last in _rollup_rows(
                device=device, size=size, interval=interval, tz=tz, start=start, end=end, fields=fields
            ):
                series[field].append({"ts": bucket.astimezone(tz).isoformat(), "mean": total / count if count else None,
                                      "min": low, "max": high, "last": last, "count": int(count)})
            source = f"rollup:{size}"
    return {
        "deviceId": str(device.pk),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "interval": interval,
        "source": source,
        "maxPoints": max_points,
        # A list, not a dict keyed by field: field names are data and must not be camel-cased.
        "series": [{"field": name, "points": points} for name, points in sorted(series.items())],
    }
