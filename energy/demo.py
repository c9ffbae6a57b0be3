"""Realistic device readings for demo homes: daily and seasonal shape per device type."""
import datetime
import math
import random

from .timeseries import Point

UTC = datetime.timezone.utc


def _season(day_of_year: int) -> float:
    """1.0 in mid-January, -1.0 in mid-July (northern hemisphere)."""
    return math.cos(2 * math.pi * (day_of_year - 15) / 365.25)


def _evening(hour: float) -> float:
    return 1.0 if 18.5 <= hour < 23.5 else (0.6 if 6.5 <= hour < 8.0 else 0.0)


def _watts(kind: str, hour: float, season: float, weekend: bool, rng: random.Random, rating: float) -> float:
    if kind == "light":
        dark = _evening(hour) * (1.15 if season > 0 else 0.85)
        return rating * dark * (0.8 + 0.4 * rng.random()) if rng.random() < 0.95 else 0.0
    if kind == "tv":
        watching = 19.5 <= hour < 23.5 or (weekend and 15 <= hour < 18)
        return rating * (0.85 + 0.3 * rng.random()) if watching and rng.random() < 0.9 else 1.2
    if kind == "ac":
        hot = max(0.0, -season)  # summer
        afternoon = 1.0 if 13 <= hour < 20 else (0.4 if 20 <= hour < 23 else 0.0)
        return rating * hot * afternoon * (0.6 + 0.4 * rng.random())
    if kind == "thermostat":
        cold = max(0.0, season)  # heating in winter, strongest mornings and evenings
        daily = 1.0 if 6 <= hour < 9 or 17 <= hour < 23 else 0.35
        return rating * cold * daily * (0.5 + 0.5 * rng.random())
    if kind == "speaker":
        return rating * (0.7 + 0.3 * rng.random()) if 8 <= hour < 10 or 18 <= hour < 21 else 2.0
    if kind == "camera":
        return rating * (0.9 + 0.2 * rng.random())
    return 0.0


RATINGS = {"light": 45.0, "tv": 110.0, "ac": 1400.0, "thermostat": 1800.0, "speaker": 18.0, "camera": 4.5,
           "lock": 0.0, "sensor": 0.0, "blind": 0.0, "shutter": 0.0}


def device_points(device, tz, start: datetime.datetime, end: datetime.datetime, step: datetime.timedelta):
    """Readings of one device every `step` over [start, end), the same on every run."""
    rng = random.Random(device.pk.int)
    kind = device.type
    rating = RATINGS.get(kind, 10.0) * (0.8 + 0.4 * rng.random())
    hours = step.total_seconds() / 3600
    battery = 100.0
    room = str(device.room_id)
    home = str(device.home_id)
    device_id = str(device.pk)
    ts = start
    while ts < end:
        local = ts.astimezone(tz)
        hour = local.hour + local.minute / 60
        day_of_year = local.timetuple().tm_yday
        season = _season(day_of_year)
        fields: dict[str, float] = {}
        if kind in ("thermostat", "sensor", "ac"):
            outdoor = 14 - 9 * season + 5 * math.sin(2 * math.pi * (hour - 9) / 24)
            fields["temperature"] = round(21 + 0.15 * (outdoor - 20) + rng.gauss(0, 0.2), 2)
            fields["humidity"] = round(50 + 8 * season + rng.gauss(0, 2), 1)
        if kind in ("sensor", "camera"):
            busy = 0.25 if 7 <= hour < 23 else 0.02
            fields["motion"] = 1.0 if rng.random() < busy else 0.0
        if kind in ("sensor", "lock"):
            battery = max(5.0, battery - 0.0008 * hours * 60)
            fields["battery"] = round(battery, 2)
        if kind == "lock":
            fields["locked"] = 0.0 if (7 <= hour < 9 or 17 <= hour < 19) and rng.random() < 0.3 else 1.0
        watts = _watts(kind, hour, season, local.weekday() >= 5, rng, rating)
        if RATINGS.get(kind, 10.0) > 0:
            fields["power"] = round(watts, 2)
            fields["energy"] = round(watts * hours, 4)
        yield Point("telemetry", home, device_id, ts, fields, room)
        ts += step
