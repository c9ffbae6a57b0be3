"""Local-calendar arithmetic for schedules: the next firing in the home's time zone."""
import datetime
import zoneinfo

from .engine.registry import WEEKDAYS

UTC = datetime.UTC


def local_instant(day: datetime.date, at: datetime.time, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The instant (UTC) the local clock of `zone` shows `at` on `day`.

    A wall time that happens twice (the autumn change) is its first occurrence. One that never
    happens (skipped by the spring change) is the first instant after it: the change itself,
    when the clock jumps over it (02:30 on a 02:00 -> 03:00 day is 03:00).
    """
    wall = datetime.datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # Skipped: fold=1 reads the wall time with the offset after the jump, which lands before it.
    low, high = wall.replace(tzinfo=zone, fold=1).astimezone(UTC), first
    while high - low > datetime.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def next_run_at(*, at: datetime.time, days: list[str], tz: str, after: datetime.datetime) -> datetime.datetime | None:
    """The first instant strictly after `after` when the local clock shows `at` on one of `days`
    (local_instant says what a skipped or repeated wall time means)."""
    if not days:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    wanted = {WEEKDAYS.index(d) for d in days}
    local_day = after.astimezone(zone).date()
    for offset in range(0, 9):
        day = local_day + datetime.timedelta(days=offset)
        if day.weekday() not in wanted:
            continue
        candidate = local_instant(day, at, zone)
        if candidate > after:
            return candidate
    return None
