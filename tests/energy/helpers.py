"""Writing realistic readings for tests and reading reports back."""
import datetime

from energy import rollups
from energy.points import ingest_points
from energy.timeseries import Point

UTC = datetime.timezone.utc


def local(tz, *args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=tz).astimezone(UTC)


def write_energy(device, start, end, *, step=datetime.timedelta(minutes=1), wh=1.0, power=None, batch=500):
    """A device reporting `wh` Wh every `step` over [start, end); rolls up afterwards."""
    points, ts = [], start
    while ts < end:
        fields = {"energy": wh}
        if power is not None:
            fields["power"] = power
        points.append(Point("telemetry", str(device.home_id), str(device.pk), ts, fields, str(device.room_id)))
        ts += step
    for i in range(0, len(points), batch):
        ingest_points(points=points[i:i + batch])
    rollups.run_all_pending()
    return len(points)


def by_id(items, key, value):
    return next(item for item in items if item[key] == str(value))
