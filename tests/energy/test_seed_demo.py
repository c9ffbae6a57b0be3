"""seed_energy_demo: a home gets history the endpoints can show, and a second run changes nothing."""
import datetime

from django.core.management import call_command
from django.db import connection

from tests import factories as f


def _counts(home):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM energy_reading WHERE home_id = %s", [home.pk])
        raw = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), sum(sum) FROM energy_rollup WHERE home_id = %s AND size = '1d' AND field = 'energy'", [home.pk])
        return raw, *cursor.fetchone()


def test_demo_history_fills_the_endpoints_and_is_idempotent(world, api):
    home = world["home"]
    f.DeviceFactory(room=world["kitchen"], type="sensor", name="Kitchen sensor")
    call_command("seed_energy_demo", home=str(home.pk), days=3, step=15)
    first = _counts(home)
    assert first[0] > 0 and first[1] >= 3 * 2  # daily rollups for the lamp and the TV
    call_command("seed_energy_demo", home=str(home.pk), days=3, step=15)
    assert _counts(home) == first
    report = api.get(f"/api/homes/{home.pk}/energy", {"period": "week"}).json()
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    day = api.get(f"/api/homes/{home.pk}/energy", {"period": "day", "date": yesterday}).json()
    assert report["totalKwh"] > 0 and day["totalKwh"] > 0 and day["cost"] > 0 and day["currency"] == "EUR"
    sensor = next(d for d in world["home"].devices.all() if d.type == "sensor")
    history = api.get(f"/api/homes/{home.pk}/devices/{sensor.pk}/history", {"fields": "temperature,humidity"}).json()
    assert [s["field"] for s in history["series"]] == ["humidity", "temperature"]
    assert all(15 < p["mean"] < 30 for p in history["series"][1]["points"])
    assert api.get(f"/api/homes/{home.pk}/budget").json()["status"]["usedKwh"] >= 0
