"""Live power per home in Redis, and the throttled `energy:update` event built from it.

Each batch costs one pipelined round trip: the newest power reading of every device goes
into a per-home hash, and a per-home `SET NX PX` decides whether this batch is the one
that announces the home's power for the current throttle window.
"""
import datetime
import logging

import redis
from django.conf import settings

from realtime import publish
from veahome import redis_store

logger = logging.getLogger(__name__)

POWER_FIELD = "power"


client = redis_store.cache


def _key(kind: str, home_id: str) -> str:
    return redis_store.cache_key("energy", kind, str(home_id))


def note_batch(points) -> list[str]:
    """Remember the newest power per device and publish `energy:update` for homes whose
    throttle window is open. Returns the homes that got an event."""
    newest: dict[str, dict[str, tuple[float, float]]] = {}
    homes: list[str] = []
    for point in points:
        if point.measurement != "telemetry":
            continue
        if point.home_id not in newest:
            newest[point.home_id] = {}
            homes.append(point.home_id)
        value = point.fields.get(POWER_FIELD)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            ts = point.ts.timestamp()
            seen = newest[point.home_id].get(point.device_id)
            if seen is None or ts >= seen[0]:
                newest[point.home_id][point.device_id] = (ts, float(value))
    if not homes:
        return []
    throttle_ms = max(1, int(settings.ENERGY_UPDATE_THROTTLE_SECONDS * 1000))
    try:
        pipe = client().pipeline(transaction=False)
        for home_id in homes:
            devices = newest[home_id]
            if devices:
                pipe.hset(_key("power", home_id), mapping={d: f"{ts}:{v}" for d, (ts, v) in devices.items()})
                pipe.expire(_key("power", home_id), 86400)
        for home_id in homes:
            pipe.set(_key("throttle", home_id), 1, nx=True, px=throttle_ms)
        results = pipe.execute()[-len(homes):]
    except redis.RedisError:
        # Live figures are best effort; the stored points are what counts.
        logger.warning("live power update failed", exc_info=True)
        return []
    announced = [home_id for home_id, won in zip(homes, results) if won]
    for home_id in announced:
        publish(home_id, "energy:update", snapshot(home_id))
    return announced


def current_power(home_id: str) -> dict[str, tuple[datetime.datetime, float]]:
    """{device_id: (ts, watts)} for devices that reported power within ENERGY_LIVE_MAX_AGE_SECONDS."""
    try:
        raw = client().hgetall(_key("power", home_id))
    except redis.RedisError:
        logger.warning("live power read failed", exc_info=True)
        return {}
    cutoff = datetime.datetime.now(datetime.timezone.utc).timestamp() - settings.ENERGY_LIVE_MAX_AGE_SECONDS
    out = {}
    for device, packed in raw.items():
        ts, _, value = packed.decode().partition(":")
        if float(ts) >= cutoff:
            out[device.decode()] = (datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc), float(value))
    return out


def snapshot(home_id: str) -> dict:
    power = current_power(home_id)
    return {
        "homeId": str(home_id),
        "currentPowerW": round(sum(v for _, v in power.values()), 3),
        "devices": [
            {"deviceId": device, "powerW": value, "ts": ts.isoformat()}
            for device, (ts, value) in sorted(power.items())
        ],
    }


def forget(home_id: str) -> None:
    client().delete(_key("power", home_id), _key("throttle", home_id))
