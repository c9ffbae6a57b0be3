"""Energy per period on the home's calendar: DST days, month boundaries, tariffs, rooms, comparison."""
import datetime
from zoneinfo import ZoneInfo

import pytest

from energy.models import Tariff
from tests import factories as f

from .helpers import UTC, by_id, local, write_energy

MADRID = ZoneInfo("Europe/Madrid")


def test_spring_forward_day_has_23_hours_and_autumn_day_25(store, world, api):
    lamp, home = world["lamp"], world["home"]
    # 1 Wh every minute from 2026-03-28 to 2026-03-31 local, and around 2026-10-25.
    write_energy(lamp, local(MADRID, 2026, 3, 28), local(MADRID, 2026, 3, 31))
    write_energy(lamp, local(MADRID, 2026, 10, 24), local(MADRID, 2026, 10, 27))
    url = f"/api/homes/{home.pk}/energy"
    spring = api.get(url, {"period": "day", "date": "2026-03-29"}).json()
    assert spring["totalKwh"] == 1.38  # 23 h x 60 Wh
    assert spring["from"] == "2026-03-29T00:00:00+01:00" and spring["to"] == "2026-03-30T00:00:00+02:00"
    assert spring["previous"]["totalKwh"] == 1.44
    assert spring["change"] == {"kwh": -0.06, "percent": -4.2}
    autumn = api.get(url, {"period": "day", "date": "2026-10-25"}).json()
    assert autumn["totalKwh"] == 1.5  # 25 h
    assert autumn["source"] == "rollup:1d"
    # The device's hourly history of the autumn day has 25 buckets, the repeated hour twice.
    history = api.get(
        f"/api/homes/{home.pk}/devices/{lamp.pk}/history",
        {"from": "2026-10-25", "to": "2026-10-26", "interval": "1h", "fields": "energy"},
    ).json()
    points = history["series"][0]["points"]
    assert len(points) == 25 and history["source"] == "rollup:1h"
    assert [p["ts"] for p in points[2:4]] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    assert all(p["mean"] == 1.0 and p["count"] == 60 for p in points)


def test_month_boundary_follows_the_home_timezone(store, world, api):
    lamp, home = world["lamp"], world["home"]
    # 23:30 on 31 March in Madrid is 21:30 UTC (March); 00:30 on 1 April is 22:30 UTC, still March in UTC.
    write_energy(lamp, local(MADRID, 2026, 3, 31, 23, 30), local(MADRID, 2026, 3, 31, 23, 31), wh=500)
    write_energy(lamp, local(MADRID, 2026, 4, 1, 0, 30), local(MADRID, 2026, 4, 1, 0, 31), wh=700)
    url = f"/api/homes/{home.pk}/energy"
    march = api.get(url, {"period": "month", "date": "2026-03-10"}).json()
    april = api.get(url, {"period": "month", "date": "2026-04-20"}).json()
    assert (march["totalKwh"], april["totalKwh"]) == (0.5, 0.7)
    assert april["previous"]["totalKwh"] == 0.5 and april["change"]["percent"] == 40.0
    assert april["from"] == "2026-04-01T00:00:00+02:00"


def test_breakdown_per_device_and_room_and_room_endpoint(store, world, api):
    home, lamp, tv, kitchen = world["home"], world["lamp"], world["tv"], world["kitchen"]
    kettle = f.DeviceFactory(room=kitchen, name="Kettle")
    day = local(MADRID, 2026, 6, 10)
    write_energy(lamp, day, day + datetime.timedelta(hours=10), wh=1)      # 0.6 kWh
    write_energy(tv, day, day + datetime.timedelta(hours=5), wh=2)         # 0.6 kWh
    write_energy(kettle, day, day + datetime.timedelta(hours=1), wh=20)    # 1.2 kWh
    report = api.get(f"/api/homes/{home.pk}/energy", {"period": "week", "date": "2026-06-10"}).json()
    assert report["totalKwh"] == 2.4
    assert [d["name"] for d in report["devices"][:3]] == ["Kettle", "Lamp", "TV"]
    assert by_id(report["devices"], "deviceId", tv.pk)["kwh"] == 0.6
    assert by_id(report["rooms"], "roomId", world["living"].pk)["kwh"] == 1.2
    assert by_id(report["rooms"], "roomId", kitchen.pk)["kwh"] == 1.2
    room = api.get(f"/api/homes/{home.pk}/rooms/{kitchen.pk}/energy", {"period": "week", "date": "2026-06-10"}).json()
    assert room["totalKwh"] == 1.2 and [d["name"] for d in room["devices"]] == ["Kettle"]
    explicit = api.get(f"/api/homes/{home.pk}/energy", {"from": "2026-06-10T00:00", "to": "2026-06-10T02:30"}).json()
    assert explicit["source"] == "rollup:5m" and explicit["totalKwh"] == round(0.15 + 0.3 + 1.2, 3)


def test_tariff_change_mid_month_prices_each_day_with_its_tariff(store, world, api):
    home, lamp = world["home"], world["lamp"]
    Tariff.objects.create(home=home, valid_from=datetime.date(2026, 3, 1), price_per_kwh="0.20", currency="EUR")
    Tariff.objects.create(home=home, valid_from=datetime.date(2026, 3, 16), price_per_kwh="0.30", currency="EUR")
    # 1 kWh per day, every day of March (one reading of 1000 Wh at local noon).
    write_energy(lamp, local(MADRID, 2026, 3, 1, 12), local(MADRID, 2026, 4, 1, 12), step=datetime.timedelta(days=1), wh=1000)
    report = api.get(f"/api/homes/{home.pk}/energy", {"period": "month", "date": "2026-03-31"}).json()
    assert report["totalKwh"] == 31.0
    assert report["cost"] == round(15 * 0.20 + 16 * 0.30, 2) and report["currency"] == "EUR"
    assert by_id(report["devices"], "deviceId", lamp.pk)["cost"] == report["cost"]
    assert by_id(report["rooms"], "roomId", world["living"].pk)["cost"] == report["cost"]


def test_time_of_use_prices_by_local_hour(store, world, api):
    home, lamp = world["home"], world["lamp"]
    Tariff.objects.create(home=home, valid_from=datetime.date(2026, 1, 1), kind="tou", price_per_kwh="0.30",
                          periods=[{"start": "22:00", "end": "06:00", "price_per_kwh": "0.10"}])
    # 100 Wh each hour for a whole local day: 8 night hours at 0.10, 16 at 0.30.
    write_energy(lamp, local(MADRID, 2026, 2, 2), local(MADRID, 2026, 2, 3), step=datetime.timedelta(hours=1), wh=100)
    report = api.get(f"/api/homes/{home.pk}/energy", {"period": "day", "date": "2026-02-02"}).json()
    assert report["totalKwh"] == 2.4 and report["source"] == "rollup:1h"
    assert report["cost"] == round(0.8 * 0.10 + 1.6 * 0.30, 2)


def test_tariff_in_force_cannot_be_changed_but_a_future_one_can(world, api):
    home = world["home"]
    url = f"/api/homes/{home.pk}/tariffs"
    past = api.post(url, {"validFrom": "2025-01-01", "pricePerKwh": 0.20}).json()
    response = api.patch(f"{url}/{past['id']}", {"pricePerKwh": 0.99})
    assert response.status_code == 409 and response.json()["error"]["code"] == "tariff_in_effect"
    assert api.delete(f"{url}/{past['id']}").status_code == 409
    future = api.post(url, {"validFrom": "2099-01-01", "kind": "tou", "pricePerKwh": 0.30,
                            "periods": [{"start": "00:00", "end": "07:00", "pricePerKwh": 0.12}]})
    assert future.status_code == 201, future.content
    assert future.json()["periods"] == [{"start": "00:00", "end": "07:00", "pricePerKwh": 0.12}]
    assert api.patch(f"{url}/{future.json()['id']}", {"pricePerKwh": 0.35}).json()["pricePerKwh"] == 0.35
    assert [t["validFrom"] for t in api.get(url).json()] == ["2025-01-01", "2099-01-01"]


@pytest.mark.parametrize("body, field", [
    ({"validFrom": "2030-01-01", "pricePerKwh": -1}, "pricePerKwh"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "kind": "tou"}, "periods"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "kind": "tou", "periods": [{"start": "07:30", "end": "09:00", "pricePerKwh": 0.1}]}, "periods.0.start"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "currency": "euro"}, "currency"),
    ({"pricePerKwh": 0.2}, "validFrom"),
])
def test_bad_tariffs_are_400_naming_the_field(world, api, body, field):
    response = api.post(f"/api/homes/{world['home'].pk}/tariffs", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_patched_tariffs_periods_are_still_given_whole(world, api):
    url = f"/api/homes/{world['home'].pk}/tariffs"
    future = api.post(url, {"validFrom": "2099-01-01", "kind": "tou", "pricePerKwh": 0.30,
                            "periods": [{"start": "00:00", "end": "07:00", "pricePerKwh": 0.12}]}).json()
    response = api.patch(f"{url}/{future['id']}", {"kind": "tou", "periods": [{}, {"start": "01:00"}]})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert {"periods.0.start", "periods.0.end", "periods.0.pricePerKwh", "periods.1.end"} <= set(fields)
    assert "periods.1.start" not in fields
    assert api.get(f"{url}/{future['id']}").json()["periods"][0]["start"] == "00:00"  # unchanged


@pytest.mark.parametrize("query, field", [
    ({"period": "decade"}, "period"),
    ({"from": "2026-01-01"}, "to"),
    ({"from": "2026-02-01", "to": "2026-01-01"}, "to"),
    ({"from": "yesterday", "to": "2026-01-01"}, "from"),
    ({"date": "2026-13-01"}, "date"),
    ({"date": "9999-12-31"}, "date"),
    ({"from": "0001-01-01", "to": "2026-01-01"}, "from"),
    ({"from": "2000-01-01", "to": "2026-01-01"}, "to"),
])
def test_bad_energy_queries_are_400(world, api, query, field):
    response = api.get(f"/api/homes/{world['home'].pk}/energy", query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_current_power_comes_from_the_latest_readings(store, world, api):
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    write_energy(world["lamp"], now - datetime.timedelta(minutes=2), now, wh=1, power=60.0)
    write_energy(world["tv"], now - datetime.timedelta(minutes=1), now, wh=1, power=120.5)
    report = api.get(f"/api/homes/{world['home'].pk}/energy", {"period": "day"}).json()
    assert report["currentPowerW"] == 180.5
    assert by_id(report["devices"], "deviceId", world["tv"].pk)["currentPowerW"] == 120.5


def test_energy_and_tariff_lists_cost_a_fixed_number_of_queries(world, api, django_assert_max_num_queries):
    home = world["home"]
    for day in range(1, 6):
        Tariff.objects.create(home=home, valid_from=datetime.date(2026, 1, day), price_per_kwh="0.2")
    for n in range(5):
        f.DeviceFactory(room=world["kitchen"], name=f"Plug {n}")
    with django_assert_max_num_queries(4):
        assert len(api.get(f"/api/homes/{home.pk}/tariffs").json()) == 5
    with django_assert_max_num_queries(8):
        assert len(api.get(f"/api/homes/{home.pk}/energy", {"period": "year", "date": "2026-02-01"}).json()["devices"]) == 7
