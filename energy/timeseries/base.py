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

    @abc.abstractmethod
    def read_range(self, *, limit: int | None = None, **filters) -> list[Row]:
        """See the subclasses."""

    @abc.abstractmethod
    def aggregate(self, *, window: datetime.timedelta, **filters) -> list[AggRow]:
        """See the subclasses."""

    def latest(self, *, home_id: str, since: datetime.datetime, field: str, measurement: str = "telemetry") -> dict[str, tuple]:
        """{device_id: (ts, value)} of the newest value of `field` per device since `since`."""
        rows = self.aggregate(
            window=datetime.timedelta(days=3650), home_id=home_id, start=since,
            end=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5),
            fields=(field,), measurement=measurement,
        )
        out: dict[str, tuple] = {}
        for row in rows:
            if row.device_id not in out or row.last_ts > out[row.device_id][0]:
                out[row.device_id] = (row.last_ts, row.last)
        return out

    @abc.abstractmethod
    def delete_before(self, ts: datetime.datetime) -> None:
        """See the subclasses."""

    @abc.abstractmethod
    def drop_all(self) -> None:
        """Remove every point (tests and demo resets)."""
