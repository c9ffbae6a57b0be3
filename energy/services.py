"""Every write of the energy app: points in, state changes, tariffs, budgets, ingestion tokens."""
import datetime
import logging

from django.db import transaction

from . import live, rollups
from .timeseries import Point, numeric_fields, write_points

logger = logging.getLogger(__name__)


def ingest_points(*, points: list[Point]) -> int:
    """The one entry point for writers: store a batch, queue its rollups, announce live power.

    Cheap per batch: one COPY, one multi-row upsert of (home, hour) rollup work, one
    pipelined Redis round trip, and at most one `energy:update` per home per throttle window.
    Returns the number of points stored.
    """
    points = [p for p in points if p.fields]
    if not points:
        return 0
    with transaction.atomic():
        written = write_points(points)
        rollups.mark_dirty(points)
    live.note_batch(points)
    return written


def state_fields(state: dict) -> dict[str, float]:
    """The numeric part of a device state ({"isActive": true, "value": 21.5, ...})."""
    return numeric_fields({k: v for k, v in state.items() if k != "commandId"})


def record_state_change(*, device, state: dict, ts: datetime.datetime | None = None) -> int:
    """Record a device's (reported or commanded) state in its history."""
    fields = state_fields(state)
    if not fields:
        return 0
    ts = ts or datetime.datetime.now(datetime.timezone.utc)
    point = Point(
        measurement="state", home_id=str(device.home_id), device_id=str(device.pk), ts=ts,
        fields=fields, room_id=str(device.room_id) if device.room_id else None,
    )
    return ingest_points(points=[point])
