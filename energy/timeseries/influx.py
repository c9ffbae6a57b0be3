"""InfluxDB backend over the HTTP API v1: line-protocol writes to /write, InfluxQL on /query.

That one protocol is served by InfluxDB 1.x natively, by 2.x through its v1
compatibility endpoints (database/retention policy mapped to a bucket) and by 3.x, which
kept InfluxQL and v1 writes but dropped Flux; httpx speaks it without a client library.
Measurements are "state" and "telemetry"; home, room and device ids are tags; every
field is a float.
"""
import datetime
import logging
from typing import Iterable

import httpx

from . import lineprotocol as lp
from .base import AggRow, Backend, Filter, Row

logger = logging.getLogger(__name__)

UTC = datetime.timezone.utc
AGGREGATES = ("count", "sum", "min", "max", "last")


class InfluxError(Exception):
    pass


def _from_us(value: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1, tzinfo=UTC) + datetime.timedelta(microseconds=int(value))


class InfluxBackend(Backend):
    name = "influxdb"

    def __init__(self, *, url: str, database: str, token: str = "", username: str = "", password: str = "", timeout: float = 10.0):
        headers = {"Authorization": f"Token {token}"} if token else {}
        auth = (username, password) if username else None
        self.database = database
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, auth=auth, timeout=timeout)
        self._database_ready = False

    @classmethod
    def from_settings(cls, settings) -> "InfluxBackend":
        return cls(
            url=settings.INFLUXDB_URL, database=settings.INFLUXDB_DATABASE, token=settings.INFLUXDB_TOKEN,
            username=settings.INFLUXDB_USERNAME, password=settings.INFLUXDB_PASSWORD, timeout=settings.INFLUXDB_TIMEOUT,
        )

    # -- plumbing -------------------------------------------------------------------------

    def query(self, q: str, *, write: bool = False) -> list[dict]:
        params = {"db": self.database, "q": q, "epoch": "u"}
        response = self.http.post("/query", data=params) if write else self.http.get("/query", params=params)
        if response.status_code >= 400:
            raise InfluxError(f"InfluxDB query failed ({response.status_code}): {response.text[:300]}")
        results = response.json().get("results", [])
        for result in results:
            if "error" in result:
                raise InfluxError(f"InfluxDB query failed: {result['error']}")
        return [series for result in results for series in result.get("series", [])]

    def ensure_database(self) -> None:
        if self._database_ready:
            return
        try:
            self.query(f"CREATE DATABASE {lp.quote_ident(self.database)}", write=True)
        except (InfluxError, httpx.HTTPError):
            # 2.x and 3.x create buckets/databases elsewhere (or on first write).
            logger.info("InfluxDB did not create database %s; assuming it exists", self.database)
        self._database_ready = True

    # -- writes ---------------------------------------------------------------------------

    def write_points(self, points: Iterable) -> int:
        from . import numeric_fields

        lines = []
        for point in points:
            values = numeric_fields(point.fields)
            if not values:
                continue
            tags = {"home_id": str(point.home_id), "device_id": str(point.device_id), "room_id": point.room_id or ""}
            lines.append(lp.line(point.measurement, tags, values, point.ts))
        if not lines:
            return 0
        self.ensure_database()
        response = self.http.post(
            "/write", params={"db": self.database, "precision": "u"}, content="\n".join(lines).encode()
        )
        if response.status_code >= 300:
            raise InfluxError(f"InfluxDB write failed ({response.status_code}): {response.text[:300]}")
        return len(lines)

    # -- reads ----------------------------------------------------------------------------

    def _from_where(self, flt: Filter) -> str:
        source = lp.quote_ident(flt.measurement) if flt.measurement else "/.*/"
        clauses = [
            f"{lp.quote_ident('home_id')} = {lp.quote_string(flt.home_id)}",
            f"time >= {lp.epoch_us(flt.start)}u",
            f"time < {lp.epoch_us(flt.end)}u",
        ]
        if flt.device_id:
            clauses.append(f"{lp.quote_ident('device_id')} = {lp.quote_string(flt.device_id)}")
        if flt.room_id:
            clauses.append(f"{lp.quote_ident('room_id')} = {lp.quote_string(flt.room_id)}")
        return f"FROM {source} WHERE {' AND '.join(clauses)}"

    def read_range(self, *, limit: int | None = None, **filters) -> list[Row]:
        flt = Filter(**filters)
        self.ensure_database()
        select = ", ".join(lp.quote_ident(f) for f in flt.fields) if flt.fields else "*"
        q = f"SELECT {select} {self._from_where(flt)} GROUP BY \"device_id\", \"room_id\""
        if limit:
            q += f" LIMIT {int(limit)}"
        rows = []
        for series in self.query(q):
            tags = series.get("tags", {})
            columns = series["columns"]
            for values in series["values"]:
                ts = _from_us(values[0])
                for column, value in zip(columns[1:], values[1:]):
                    if value is None or column in ("home_id", "device_id", "room_id"):
                        continue
                    rows.append(Row(ts, tags.get("device_id", ""), tags.get("room_id") or None, series["name"], column, float(value)))
        rows.sort(key=lambda r: (r.ts, r.device_id, r.field))
        return rows[:limit] if limit else rows

    def aggregate(self, *, window: datetime.timedelta, **filters) -> list[AggRow]:
        flt = Filter(**filters)
        self.ensure_database()
        target = lp.regex_alternation(flt.fields) if flt.fields else "*"
        select = ", ".join(f"{fn}({target})" for fn in AGGREGATES)
        seconds = max(1, int(window.total_seconds()))
        q = (
            f"SELECT {select} {self._from_where(flt)} "
            f"GROUP BY time({seconds}s), \"device_id\", \"room_id\" fill(none)"
        )
        out = []
        for series in self.query(q):
            tags = series.get("tags", {})
            columns = series["columns"]
            for values in series["values"]:
                bucket = _from_us(values[0])
                per_field: dict[str, dict] = {}
                for column, value in zip(columns[1:], values[1:]):
                    fn, _, field = column.partition("_")
                    if fn in AGGREGATES and value is not None:
                        per_field.setdefault(field, {})[fn] = value
                for field, agg in per_field.items():
                    if not agg.get("count"):
                        continue
                    # Last point's own time is not returned next to other aggregates; the
                    # window start orders windows just as well.
                    out.append(AggRow(
                        bucket, tags.get("device_id", ""), tags.get("room_id") or None, series["name"], field,
                        int(agg["count"]), float(agg["sum"]), float(agg["min"]), float(agg["max"]), float(agg["last"]),
                        bucket,
                    ))
        out.sort(key=lambda r: (r.bucket, r.device_id, r.field))
        return out

    def delete_before(self, ts: datetime.datetime) -> None:
        self.query(f"DELETE WHERE time < {lp.epoch_us(ts)}u", write=True)

    def drop_all(self) -> None:
        self.query(f"DROP DATABASE {lp.quote_ident(self.database)}", write=True)
        self._database_ready = False

    def delete_home(self, home_id: str, since: datetime.datetime) -> None:
        """Remove one home's points from `since` on (demo regeneration)."""
        self.query(
            f"DELETE WHERE {lp.quote_ident('home_id')} = {lp.quote_string(home_id)} AND time >= {lp.epoch_us(since)}u",
            write=True,
        )
