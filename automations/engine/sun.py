"""Sunrise and sunset at a home's location (astral), in UTC.

A day without a sunrise or a sunset (polar day or night) has none: triggers skip it and
conditions see the sun as it is all day.
"""
import datetime
import functools

from astral import Observer
from astral.sun import elevation, sunrise, sunset

UTC = datetime.UTC
EVENTS = {"sunrise": sunrise, "sunset": sunset}


@functools.lru_cache(maxsize=4096)
def sun_event(latitude: float, longitude: float, day: datetime.date, event: str, tz: str) -> datetime.datetime | None:
    """`event` on the local calendar day `day` of the zone `tz`, as a UTC instant."""
    import zoneinfo

    try:
        at = EVENTS[event](Observer(latitude=latitude, longitude=longitude), date=day, tzinfo=zoneinfo.ZoneInfo(tz))
    except ValueError:
        return None
    return at.astimezone(UTC)


def location(home) -> tuple[float, float] | None:
    if home.latitude is None or home.longitude is None:
        return None
    return float(home.latitude), float(home.longitude)


def next_event(home, *, event: str, offset: float = 0, days: list[str] | None, weekdays: tuple[str, ...],
               after: datetime.datetime) -> datetime.datetime | None:
    """The first `event` + `offset` seconds strictly after `after`, on one of `days` (local)."""
    where = location(home)
    if where is None:
        return None
    tz = home.timezone
    local_day = after.astimezone(home.tz).date()
    for shift in range(-1, 9):
        day = local_day + datetime.timedelta(days=shift)
        if days and weekdays[day.weekday()] not in days:
            continue
        at = sun_event(*where, day, event, tz)
        if at is None:
            continue
        at = at + datetime.timedelta(seconds=offset)
        if at > after:
            return at
    return None


def is_up(home, now: datetime.datetime) -> bool:
    where = location(home)
    return where is not None and elevation(Observer(latitude=where[0], longitude=where[1]), now) > -0.833
