"""The history store's writers and its point builders: the one way into the time series.

Devices (state changes, commands assumed), the hub link (reports, hub transitions) and the
HTTP ingestion all build their points here and hand them to `ingest_points`. This module
knows nothing of the apps above it (it imports no models), so they depend on it and it on
nothing but the store, the rollup queue and live power.
"""
import datetime

from django.db import transaction

from . import live, rollups, timeseries
from .timeseries import Point, numeric_fields

STATE = "state"
TELEMETRY = "telemetry"
# Hub transitions share the store; the hub's id stands in the device slot.
HUB_STATUS = "hub_status"


def _id(value) -> str | None:
    return str(value) if value is not None else None


def state_fields(state: dict) -> dict[str, float]:
    """The numeric part of a device state ({"isActive": true, "value": 21.5, ...})."""
    return numeric_fields({k: v for k, v in state.items() if k != "commandId" and v is not None})


def state_point(*, home_id, device_id, room_id, ts: datetime.datetime, state: dict) -> Point:
    """The one builder of a state point: a device's state (or the part that changed) at `ts`."""
    return Point(measurement=STATE, home_id=str(home_id), device_id=str(device_id), room_id=_id(room_id),
                 ts=ts, fields=state_fields(state))


def telemetry_point(*, home_id, device_id, room_id, ts: datetime.datetime, fields: dict) -> Point:
    return Point(measurement=TELEMETRY, home_id=str(home_id), device_id=str(device_id), room_id=_id(room_id),
                 ts=ts, fields=fields)


def hub_status_point(*, home_id, hub_id, ts: datetime.datetime, online: bool) -> Point:
    return Point(measurement=HUB_STATUS, home_id=str(home_id), device_id=str(hub_id), ts=ts,
                 fields={"online": 1.0 if online else 0.0})


def _store(points: list[Point]) -> int:
    """Write points and queue the rollups of their hours, in one transaction."""
    with transaction.atomic():
        written = timeseries.write_points(points)
        rollups.mark_dirty(points)
    return written


def ingest_points(*, points: list[Point]) -> int:
    """Store a batch, queue its rollups, announce live power; inside the caller's transaction.

    Cheap per batch: one COPY, one multi-row upsert of (home, hour) rollup work, one
    pipelined Redis round trip, and at most one `energy:update` per home per throttle window.
    Returns the number of points stored.
    """
    points = [p for p in points if p.fields]
    if not points:
        return 0
    written = _store(points)
    live.note_batch(points)
    return written


def stored(*, measurement: str, keys: set) -> set:
    """Which (device id, ts) of `keys` the store already holds for `measurement`."""
    return timeseries.stored(measurement=measurement, keys=keys)


def ingest_late_points(*, points: list[Point]) -> int:
    """Points older than their device's newest (a hub's buffer, sent after it reconnected),
    counted by the rollups of their hours. Live power is not touched: it shows the newest
    reading, which these are not. Stored once each because the caller leaves out what
    `stored` says the store holds (devices.ingest asks once per batch, under the devices'
    row locks, so two batches cannot both find a point missing)."""
    points = [p for p in points if p.fields]
    return _store(points) if points else 0
