"""Device history sizing and scoping, budgets with forecast, HTTP ingestion with device tokens."""
import datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from devices.services import device_update
from energy.timeseries import read_range
from tests import factories as f

from .helpers import UTC, local, write_energy

MADRID = ZoneInfo("Europe/Madrid")


def test_history_picks_raw_or_rollups_by_range_and_stays_bounded(store, world, api, settings):
    settings.ENERGY_HISTORY_MAX_POINTS = 100
    lamp, home = world["lamp"], world["home"]
    write_energy(lamp, local(MADRID, 2026, 5, 1), local(MADRID, 2026, 5, 8), wh=1, power=60.0)
    url = f"/api/homes/{home.pk}/devices/{lamp.pk}/history"
    hour = api.get(url, {"from": "2026-05-02T10:00", "to": "2026-05-02T11:00", "fields": "power"}).json()
    assert hour["interval"] == "1m" and hour["source"] == "raw"
    assert [s["field"] for s in hour["series"]] == ["power"] and len(hour["series"][0]["points"]) == 60
    week = api.get(url, {"from": "2026-05-01", "to": "2026-05-08"}).json()
    assert week["interval"] == "6h" and week["source"] == "rollup:1h"
    energy = next(s for s in week["series"] if s["field"] == "energy")["points"]
    assert len(energy) == 28 and sum(p["mean"] * p["count"] for p in energy) == 7 * 24 * 60
    raw = api.get(url, {"from": "2026-05-02T10:00", "to": "2026-05-02T10:30", "interval": "raw", "fields": "energy"}).json()
    assert len(raw["series"][0]["points"]) == 30
    too_many = api.get(url, {"from": "2026-05-01", "to": "2026-05-08", "interval": "5m"})
    assert too_many.status_code == 400 and too_many.json()["error"]["code"] == "too_many_points"
    assert "interval" in too_many.json()["error"]["fields"]


@pytest.mark.parametrize("query, field", [
    ({"interval": "2m"}, "interval"),
    ({"fields": " , "}, "fields"),
    ({"from": "2026-01-02", "to": "2026-01-01"}, "to"),
    ({"from": "0001-01-01T00:00", "to": "2026-01-01"}, "from"),
])
def test_bad_history_queries_are_400(world, api, query, field):
    response = api.get(f"/api/homes/{world['home'].pk}/devices/{world['lamp'].pk}/history", query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_history_of_a_device_of_another_home_is_404(world, api):
    stranger_home = f.make_home(name="Not yours")
    stranger_device = f.DeviceFactory(room=f.RoomFactory(home=stranger_home))
    response = api.get(f"/api/homes/{world['home'].pk}/devices/{stranger_device.pk}/history")
    assert response.status_code == 404
    response = api.get(f"/api/homes/{stranger_home.pk}/devices/{stranger_device.pk}/history")
    assert response.status_code == 404
    assert api.get(f"/api/homes/{world['home'].pk}/devices/not-a-uuid/history").status_code == 404


def test_state_changes_from_device_updates_land_in_history(store, world):
    lamp = world["lamp"]
    before = datetime.datetime.now(UTC) - datetime.timedelta(seconds=1)
    device_update(device=lamp, is_active=True, value=40)
    device_update(device=lamp, name="Renamed only")  # no state change: nothing recorded
    rows = read_range(home_id=str(lamp.home_id), device_id=str(lamp.pk), start=before,
                      end=datetime.datetime.now(UTC) + datetime.timedelta(seconds=1), measurement="state")
    assert sorted((r.field, r.value) for r in rows) == [("isActive", 1.0), ("value", 40.0)]


def test_budget_usage_and_month_end_forecast(store, world, api):
    home = world["home"]
    url = f"/api/homes/{home.pk}/budget"
    assert api.get(url).json() == {"budget": None, "status": None}
    now = datetime.datetime.now(UTC)
    month_start = datetime.datetime.combine(now.astimezone(MADRID).date().replace(day=1), datetime.time(), tzinfo=MADRID)
    # 2 kWh spread over the month so far.
    write_energy(world["lamp"], month_start.astimezone(UTC), month_start.astimezone(UTC) + datetime.timedelta(minutes=2), wh=1000)
    response = api.post(url, {"kind": "kwh", "amount": 1.5})
    assert response.status_code == 200, response.content
    status = response.json()["status"]
    assert status["usedKwh"] == 2.0 and status["exceeded"] is True and status["percentUsed"] == 133.3
    assert status["forecast"] >= 2.0 and status["forecastExceeded"] is True
    assert status["month"] == month_start.date().isoformat()
    assert api.post(url, {"kind": "kwh", "amount": 0}).json()["error"]["fields"] == {"amount": ["Ensure this value is greater than or equal to 0.01."]}
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["budget"] is None


def _token(api, world, device=None):
    device = device or world["lamp"]
    response = api.post(f"/api/homes/{world['home'].pk}/devices/{device.pk}/ingestion-token")
    assert response.status_code == 201
    return response.json()["token"]


def test_device_posts_its_readings_with_its_token(store, world, api):
    token = _token(api, world)
    device_client = APIClient()
    ts = (datetime.datetime.now(UTC) - datetime.timedelta(minutes=1)).replace(microsecond=0)
    single = device_client.post("/api/device/data", {"ts": ts.isoformat(), "power": 42.5, "energy_wh_total": 7, "on": True},
                                format="json", HTTP_AUTHORIZATION=f"Device {token}")
    assert single.status_code == 202, single.content
    batch = device_client.post(
        "/api/device/data",
        {"readings": [{"ts": (ts + datetime.timedelta(seconds=i)).isoformat(), "power": float(i)} for i in range(1, 4)]},
        format="json", HTTP_X_DEVICE_TOKEN=token,
    )
    assert batch.json()["accepted"] == 3
    rows = read_range(home_id=str(world["home"].pk), device_id=str(world["lamp"].pk), start=ts,
                      end=ts + datetime.timedelta(minutes=1))
    assert sorted((r.field, r.value) for r in rows if r.ts == ts) == [("energy_wh_total", 7.0), ("on", 1.0), ("power", 42.5)]
    assert [r.value for r in rows if r.field == "power"] == [42.5, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("body, field", [
    ({"power": "a lot"}, "power"),
    ({"ts": "yesterday", "power": 1}, "ts"),
    ({"ts": "2001-01-01T00:00:00+00:00", "power": 1}, "ts"),
    ({"bad name!": 1}, "bad name!"),
    ({}, "nonFieldErrors"),
    ({"readings": []}, "readings"),
    ({"readings": [{"power": 1}, {"power": None}]}, "1.power"),
])
def test_bad_readings_are_400_naming_the_field(world, api, body, field):
    token = _token(api, world)
    response = APIClient().post("/api/device/data", body, format="json", HTTP_AUTHORIZATION=f"Device {token}")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_ingestion_needs_a_live_token(world, api):
    client = APIClient()
    assert client.post("/api/device/data", {"power": 1}, format="json").status_code == 401
    token = _token(api, world)
    assert client.post("/api/device/data", {"power": 1}, format="json", HTTP_AUTHORIZATION=f"Device {token}x").status_code == 401
    _token(api, world)  # re-issuing replaces the old token
    assert client.post("/api/device/data", {"power": 1}, format="json", HTTP_AUTHORIZATION=f"Device {token}").status_code == 401
    fresh = _token(api, world)
    api.delete(f"/api/homes/{world['home'].pk}/devices/{world['lamp'].pk}/ingestion-token")
    assert client.post("/api/device/data", {"power": 1}, format="json", HTTP_AUTHORIZATION=f"Device {fresh}").status_code == 401
    from energy.models import IngestionToken

    assert not IngestionToken.objects.filter(secret_hash__contains=fresh.split(".")[1]).exists()


def test_a_budget_without_kind_is_a_kwh_budget(world, api):
    response = api.post(f"/api/homes/{world['home'].pk}/budget", {"amount": 120}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["budget"]["kind"] == "kwh"
    options = api.options(f"/api/homes/{world['home'].pk}/devices/{world['lamp'].pk}/ingestion-token")
    assert options.status_code == 200, options.content
