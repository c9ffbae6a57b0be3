"""The time-series interface: one API, a PostgreSQL backend (default) and an InfluxDB one.

Writers (device services, the MQTT listener, HTTP ingestion) hand batches of Points to
`write_points`; readers ask for ranges and windowed aggregates. The backend is chosen by
configuration: InfluxDB when `INFLUXDB_URL` is set, PostgreSQL tables otherwise.
"""
import datetime
from dataclasses import dataclass, field
from typing import Iterable

from .base import AggRow, Backend, Row


@dataclass(frozen=True)
class Point:
    """One sample: numeric fields of one device at one instant.

    `measurement` is "state" (device state changes) or "telemetry" (power W, energy Wh,
    temperature, humidity, motion, battery, ...).
    """

    measurement: str
    home_id: str
    device_id: str
    ts: datetime.datetime
    fields: dict = field(default_factory=dict)
    room_id: str | None = None

    def __post_init__(self):
        # A naive timestamp would be read in the server's local zone: refuse it where it is made.
        if self.ts.tzinfo is None:
            raise ValueError("Point.ts must be timezone-aware")


_INF = float("inf")


def numeric_fields(fields: dict) -> dict[str, float]:
    """The fields a store can hold: numbers, booleans as 1.0/0.0; anything else is dropped."""
    out = {}
    for key, value in fields.items():
        if type(value) is float and value == value and abs(value) != _INF:
            out[key if type(key) is str else str(key)] = value
        elif isinstance(value, bool):
            out[str(key)] = 1.0 if value else 0.0
        elif isinstance(value, (int, float)) and value == value and value not in (float("inf"), float("-inf")):
            out[str(key)] = float(value)
        else:
            try:
                number = float(value) if value is not None and not isinstance(value, str) else None
            except (TypeError, ValueError):
                number = None
            if number is not None and number == number and abs(number) != float("inf"):
                out[str(key)] = number
    return out


_backend_cache: dict[tuple, Backend] = {}


def get_backend() -> Backend:
    """The configured backend (read from settings on each call, so tests can switch)."""
    from django.conf import settings

    url = getattr(settings, "INFLUXDB_URL", "") or ""
    key = (url, getattr(settings, "INFLUXDB_DATABASE", "veahome"))
    backend = _backend_cache.get(key)
    if backend is None:
        if url:
            from .influx import InfluxBackend

            backend = InfluxBackend.from_settings(settings)
        else:
            from .postgres import PostgresBackend

            backend = PostgresBackend()
        _backend_cache[key] = backend
    return backend


def write_points(points: Iterable[Point]) -> int:
    """Write a batch; returns the number of points stored (points without numeric fields are skipped)."""
    return get_backend().write_points(points)


def stored(**kwargs) -> set:
    return get_backend().stored(**kwargs)


def read_range(**kwargs) -> list[Row]:
    return get_backend().read_range(**kwargs)


def aggregate(**kwargs) -> list[AggRow]:
    return get_backend().aggregate(**kwargs)


__all__ = ["Point", "Row", "AggRow", "Backend", "get_backend", "write_points", "read_range", "aggregate", "numeric_fields"]
