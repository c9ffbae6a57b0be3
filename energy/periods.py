"""Calendar periods on a home's local calendar (day, week, month, year, or an explicit range)."""
import datetime
import zoneinfo
from dataclasses import dataclass

UTC = datetime.timezone.utc
PERIODS = ("day", "week", "month", "year")


@dataclass(frozen=True)
class Span:
    """A half-open UTC range."""

    start: datetime.datetime
    end: datetime.datetime

    @property
    def duration(self) -> datetime.timedelta:
        return self.end - self.start


def midnight(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=tz).astimezone(UTC)


def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def calendar_bounds(period: str, anchor: datetime.date) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(first day, first day after, first day of the previous period) for the period containing `anchor`."""
    if period == "day":
        return anchor, anchor + datetime.timedelta(days=1), anchor - datetime.timedelta(days=1)
    if period == "week":
        first = anchor - datetime.timedelta(days=anchor.weekday())
        return first, first + datetime.timedelta(days=7), first - datetime.timedelta(days=7)
    if period == "month":
        first = anchor.replace(day=1)
        return first, _add_months(first, 1), _add_months(first, -1)
    first = anchor.replace(month=1, day=1)
    return first, first.replace(year=first.year + 1), first.replace(year=first.year - 1)


def period_spans(period: str, anchor: datetime.date, tz: zoneinfo.ZoneInfo) -> tuple[Span, Span]:
    """The period containing `anchor` and the one before it, as UTC spans of local days."""
    first, after, previous_first = calendar_bounds(period, anchor)
    return Span(midnight(first, tz), midnight(after, tz)), Span(midnight(previous_first, tz), midnight(first, tz))


def range_spans(start: datetime.datetime, end: datetime.datetime) -> tuple[Span, Span]:
    """An explicit range and the range of the same length just before it."""
    return Span(start, end), Span(start - (end - start), start)


def local_today(tz: zoneinfo.ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    return (now or datetime.datetime.now(UTC)).astimezone(tz).date()


def rollup_size(span: Span, tz: zoneinfo.ZoneInfo) -> str:
    """The coarsest rollup whose buckets tile the span exactly."""
    def on_midnight(ts):
        local = ts.astimezone(tz)
        return local.time() == datetime.time() and midnight(local.date(), tz) == ts

    if on_midnight(span.start) and on_midnight(span.end):
        return "1d"
    if all(ts.astimezone(tz).minute == 0 and ts.second == 0 and ts.microsecond == 0 for ts in (span.start, span.end)):
        return "1h"
    return "5m"
