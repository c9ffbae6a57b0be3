"""History points for device state changes and hub transitions, handed to the time-series store."""
import datetime

from energy.timeseries import Point

STATE = "state"
TELEMETRY = "telemetry"
# Hub transitions share the store; the hub's id stands in the device slot.
HUB_STATUS = "hub_status"


def state_fields(is_active, value) -> dict:
    fields = {}
    if is_active is not None:
        fields["isActive"] = 1.0 if is_active else 0.0
    if value is not None:
        fields["value"] = float(value)
    return fields


def state_point(*, home_id, device_id, room_id, ts: datetime.datetime, is_active, value) -> Point:
    return Point(
        measurement=STATE, home_id=str(home_id), device_id=str(device_id), room_id=str(room_id) if room_id else None,
        ts=ts, fields=state_fields(is_active, value),
    )


def hub_status_point(*, home_id, hub_id, ts: datetime.datetime, online: bool) -> Point:
    return Point(measurement=HUB_STATUS, home_id=str(home_id), device_id=str(hub_id), ts=ts,
                 fields={"online": 1.0 if online else 0.0})


def write(points: list[Point]) -> None:
    """One batch into the time-series store, inside the caller's transaction."""
    if not points:
        return
    from energy.services import ingest_points

    ingest_points(points=points)


def stored(*, measurement: str, keys: set) -> set:
    """Which (device id, ts) of `keys` the store already holds for `measurement`."""
    from energy.timeseries import stored as stored_keys

    return stored_keys(measurement=measurement, keys=keys)


def write_late(points: list[Point]) -> None:
    """Readings older than their device's newest, stored once each (energy.services)."""
    if not points:
        return
    from energy.services import ingest_late_points

    ingest_late_points(points=points)
