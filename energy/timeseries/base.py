"""What every time-series backend offers, and the row shapes it returns."""
import abc
import datetime
from dataclasses import dataclass
from typing import Iterable, NamedTuple


class Row(NamedTuple):
    """One raw field value."""

    ts: datetime.datetime
    device_id: str
    room_id: str | None
    measurement: str
    field: str
    value: float


class AggRow(NamedTuple):
    """One window of one field of one device: count, sum, min, max and the last value."""

    bucket: datetime.datetime
    device_id: str
    room_id: str | None
    measurement: str
    field: str
    count: int
    sum: float
    min: float
    max: float
    last: float
    last_ts: datetime.datetime

    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else 0.0


@dataclass(frozen=True)
class Filter:
    """Which points a read covers: one home, a half-open time range, optional narrowing."""

    home_id: str
    start: datetime.datetime
    end: datetime.datetime
    device_id: str | None = None
    room_id: str | None = None
    fields: tuple[str, ...] | None = None
    measurement: str | None = None


class Backend(abc.ABC):
    """Time-series store. Windows are aligned on the Unix epoch (UTC); calendar-aware
    buckets (local hours and days) are the rollups' job, built from 5-minute windows, which
    line up with local time in every real time zone (offsets are multiples of 15 minutes)."""

    name = "base"

    @abc.abstractmethod
    def write_points(self, points: Iterable) -> int:
        """See the subclasses."""

    def stored(self, *, measurement: str, keys: set[tuple[str, datetime.datetime]]) -> set[tuple[str, datetime.datetime]]:
        """Which (device_id, ts) of `keys` already have a point of `measurement`. Backends
        where a repeated point replaces itself (InfluxDB: same series and timestamp) need
        not say: writing it again stores it once."""
        return set()

    @abc.abstractmethod
    def read_range(self, *, limit: int | None = None, **filters) -> list[Row]:
        """See the subclasses."""

    @abc.abstractmethod
    def aggregate(self, *, window: datetime.timedelta, **filters) -> list[AggRow]:
        """See the subclasses."""

    @abc.abstractmethod
    def delete_before(self, ts: datetime.datetime) -> None:
        """See the subclasses."""

    @abc.abstractmethod
    def drop_all(self) -> None:
        """Remove every point (tests and demo resets)."""
