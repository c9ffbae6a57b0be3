"""Local-calendar arithmetic for schedules: the next firing in the home's time zone."""
import datetime
import zoneinfo

from .engine.registry import WEEKDAYS


def next_run_at(*, at: datetime.time, days: list[str], tz: str, after: datetime.datetime) -> datetime.datetime | None:
    """The first instant strictly after `after` when the local clock shows `at` on one of `days`.

    A local time skipped by a DST change fires at the equivalent instant after the jump;
    a repeated one fires once, at its first occurrence (fold=0).
    """
    if not days:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    wanted = {WEEKDAYS.index(d) for d in days}
    local_day = after.astimezone(zone).date()
    for offset in range(0, 8):
        day = local_day + datetime.timedelta(days=offset)
        if day.weekday() not in wanted:
            continue
        candidate = datetime.datetime.combine(day, at, tzinfo=zone).astimezone(datetime.UTC)
        if candidate > after:
            return candidate
    return None
