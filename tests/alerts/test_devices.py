"""Devices that post over HTTP (no hub): a heartbeat (or readings) keeps them heard from; one
silent for longer than its home's `device_silent` minutes raises the alert once, and hearing
from it again resolves it."""
import datetime

import pytest
from rest_framework.test import APIClient

from alerts import detection, services
from alerts.models import Alert
from energy import services as energy_services
from energy.models import IngestionToken
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meter(home):
    device = f.DeviceFactory(room=f.RoomFactory(home=home), hub=None, name="Garden meter", type="sensor",
                             category="WiFi")
    return device, energy_services.ingestion_token_issue(device=device)


def beat(token) -> dict:
    response = APIClient().post("/api/device/heartbeat", HTTP_AUTHORIZATION=f"Device {token}")
    assert response.status_code == 202, response.content
    return response.json()


def test_a_heartbeat_is_accepted_with_the_devices_token_only(meter):
    device, token = meter
    body = beat(token)
    assert body["deviceId"] == str(device.pk) and body["heardAt"]
    assert APIClient().post("/api/device/heartbeat").status_code == 401
    assert APIClient().post("/api/device/heartbeat", HTTP_AUTHORIZATION="Device vht_nope.nope").status_code == 401


def test_a_silent_device_raises_once_and_resolves_when_heard_from_again(home, meter):
    device, token = meter
    beat(token)
    now = datetime.datetime.now(datetime.UTC)
    assert detection.check_devices(now=now + datetime.timedelta(minutes=10)) == {"raised": 0, "resolved": 0}
    assert detection.check_devices(now=now + datetime.timedelta(minutes=16)) == {"raised": 1, "resolved": 0}
    assert detection.check_devices(now=now + datetime.timedelta(minutes=30)) == {"raised": 0, "resolved": 0}
    [alert] = Alert.objects.filter(home=home)
    assert (alert.kind, alert.source_id, alert.severity) == ("device_silent", device.pk, "warning")
    assert alert.title == "Garden meter has not reported for 16 minutes"

    beat(token)
    assert detection.check_devices() == {"raised": 0, "resolved": 1}
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == ("closed", "resolved")
    assert alert.close_note.startswith("heard from at ")


def test_the_homes_rule_sets_the_silence_and_a_device_never_heard_is_not_silent(home, meter):
    device, token = meter
    services.alert_rule_update(home=home, kind="device_silent", params={"after_minutes": 60})
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=30)
    assert detection.check_devices(now=later) == {"raised": 0, "resolved": 0}  # never heard from
    beat(token)
    assert detection.check_devices(now=later) == {"raised": 0, "resolved": 0}
    IngestionToken.objects.filter(device=device).update(
        last_used_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=61))
    assert detection.check_devices() == {"raised": 1, "resolved": 0}
