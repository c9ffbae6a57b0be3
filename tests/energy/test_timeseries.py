"""The time-series interface, the same suite on PostgreSQL and on InfluxDB."""
import datetime
import uuid

import httpx
import pytest

from energy.timeseries import Point, aggregate, read_range, write_points
from energy.timeseries import lineprotocol as lp

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 1, 31, 23, 50, tzinfo=UTC)


def ids():
    return str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())


def test_batch_write_then_read_back_every_field(store):
    home, room, device = ids()
    points = [
        Point("telemetry", home, device, T0 + datetime.timedelta(minutes=i), {"power": 100.0 + i, "energy": 2, "on": True}, room)
        for i in range(20)  # crosses a month boundary: two partitions on PostgreSQL
    ]
    assert write_points(points) == 20
    rows = read_range(home_id=home, start=T0, end=T0 + datetime.timedelta(hours=1))
    assert len(rows) == 60
    power = [r for r in rows if r.field == "power"]
    assert [r.value for r in power] == [100.0 + i for i in range(20)]
    assert power[0].ts == T0 and power[0].device_id == device and power[0].room_id == room
    assert {r.value for r in rows if r.field == "on"} == {1.0}


def test_filters_by_home_room_device_field_and_measurement(store):
    home, room, device = ids()
    other_room, other_device = str(uuid.uuid4()), str(uuid.uuid4())
    write_points([
        Point("telemetry", home, device, T0, {"power": 1.0, "temperature": 20.5}, room),
        Point("telemetry", home, other_device, T0, {"power": 2.0}, other_room),
        Point("state", home, device, T0, {"isActive": 1.0}, room),
        Point("telemetry", str(uuid.uuid4()), device, T0, {"power": 9.0}, room),
    ])
    window = {"home_id": home, "start": T0, "end": T0 + datetime.timedelta(minutes=1)}
    assert sorted(r.value for r in read_range(**window, fields=("power",))) == [1.0, 2.0]
    assert [r.value for r in read_range(**window, device_id=device, measurement="telemetry", fields=("power",))] == [1.0]
    assert sorted(r.field for r in read_range(**window, room_id=room)) == ["isActive", "power", "temperature"]
    assert [(r.measurement, r.field) for r in read_range(**window, measurement="state")] == [("state", "isActive")]


def test_windowed_aggregates_mean_min_max_sum_last(store):
    home, room, device = ids()
    start = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    write_points([
        Point("telemetry", home, device, start + datetime.timedelta(minutes=m), {"power": float(v)}, room)
        for m, v in [(0, 10), (1, 30), (4, 20), (5, 100), (9, 50)]
    ])
    rows = aggregate(window=datetime.timedelta(minutes=5), home_id=home, start=start, end=start + datetime.timedelta(minutes=10))
    assert [(r.bucket, r.count, r.sum, r.min, r.max, r.last, r.mean) for r in rows] == [
        (start, 3, 60.0, 10.0, 30.0, 20.0, 20.0),
        (start + datetime.timedelta(minutes=5), 2, 150.0, 50.0, 100.0, 50.0, 75.0),
    ]
    assert rows[0].device_id == device and rows[0].room_id == room


@pytest.mark.parametrize("name", ["power draw", "a,b", 'say "hi"', "x=y", "tab\\slash", "it's"])
def test_awkward_field_names_round_trip(store, name):
    home, room, device = ids()
    write_points([Point("telemetry", home, device, T0, {name: 42.5, "plain": 1.0}, room)])
    rows = read_range(home_id=home, start=T0, end=T0 + datetime.timedelta(seconds=1), fields=(name,))
    assert [(r.field, r.value) for r in rows] == [(name, 42.5)]
    agg = aggregate(window=datetime.timedelta(minutes=5), home_id=home, start=T0, end=T0 + datetime.timedelta(seconds=1), fields=(name,))
    assert [(r.field, r.sum) for r in agg] == [(name, 42.5)]


def test_line_protocol_escapes_each_element_its_own_way():
    ts = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    text = lp.line('my measure,x', {"home id": 'a "b",c=d', "room_id": ""}, {"f=1, 2": 1.5}, ts)
    assert text == 'my\\ measure\\,x,home\\ id=a\\ "b"\\,c\\=d f\\=1\\,\\ 2=1.5 1767225600000000'
    assert lp.quote_ident('we"ird\\') == '"we\\"ird\\\\"'
    assert lp.quote_string("it's") == "'it\\'s'"


@pytest.mark.parametrize("tag", ["home one", "home,one", 'home "one"', "home=one", "home's"])
def test_awkward_tag_values_round_trip_through_real_influxdb(settings, influxdb_url, tag):
    settings.INFLUXDB_URL = influxdb_url
    settings.INFLUXDB_DATABASE = f"test_{uuid.uuid4().hex[:12]}"
    from energy.timeseries import get_backend

    backend = get_backend()
    try:
        backend.write_points([Point("telemetry", tag, f"dev {tag}", T0, {"power": 7.0}, f"room {tag}")])
        rows = backend.read_range(home_id=tag, start=T0, end=T0 + datetime.timedelta(seconds=1))
        assert [(r.device_id, r.room_id, r.value) for r in rows] == [(f"dev {tag}", f"room {tag}", 7.0)]
        assert backend.read_range(home_id="home", start=T0, end=T0 + datetime.timedelta(seconds=1)) == []
    finally:
        backend.drop_all()


def test_influxdb_rejects_nothing_silently(settings, influxdb_url):
    """A write InfluxDB refuses surfaces as an error, not as lost points."""
    response = httpx.post(f"{influxdb_url}/write", params={"db": "nowhere"}, content=b"m f=1")
    assert response.status_code == 404


def test_a_naive_timestamp_is_refused_where_the_point_is_made():
    with pytest.raises(ValueError, match="timezone-aware"):
        Point("telemetry", "h", "d", datetime.datetime(2026, 1, 1), {"power": 1.0})
