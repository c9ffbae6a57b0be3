"""The time-series interface: one API, a PostgreSQL backend (default) and an InfluxDB one.

Writers (device services, the MQTT listener, HTTP ingestion) hand batches of Points to
`write_points`; readers ask for ranges and windowed aggregates.
"""
import datetime
from dataclasses import dataclass, field


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
