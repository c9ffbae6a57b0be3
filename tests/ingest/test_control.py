"""Device control end to end: REST -> broker -> simulated hub -> state report -> listener ->
database -> websocket feed; and the command lifecycle around it."""
import pytest

from devices.models import Command
from devices.tasks import commands_expire
from tests import factories as f

from .conftest import history, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(home):
    room = f.RoomFactory(home=home, name="Living room")
    hub = f.HubFactory(home=home)
    lamp = f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee")
    ac = f.DeviceFactory(room=room, hub=hub, name="AC", type="ac", category="IR", value=22,
                         signal_mappings={"ON": "0xA1", "OFF": "0xA2", "TEMP_UP": "0xA3"})
    sensor = f.DeviceFactory(room=room, hub=hub, name="Sensor", type="sensor", category="Sensor")
    return {"home": home, "hub": hub, "lamp": lamp, "ac": ac, "sensor": sensor}


def control_url(home, device):
    return f"/api/homes/{home.pk}/devices/{device.pk}/control"


def test_control_round_trip_confirms_the_command_and_updates_the_device(api, setup, listener, sim_hub, feed):
    home, lamp = setup["home"], setup["lamp"]
    listener()
    sim_hub(setup["hub"], [lamp])
    live = feed(home.pk)

    response = api.put(control_url(home, lamp), {"isActive": True, "value": 70}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Device control command sent"
    assert body["deviceId"] == str(lamp.pk)
    assert body["status"] in ("sent", "confirmed")
    command_id = body["commandId"]
    confirmed = live.wait_for("command:status", commandId=command_id, status="confirmed")
    assert confirmed["data"]["desiredState"] == {"isActive": True, "value": 70.0}
    update = live.wait_for("device:update", deviceId=str(lamp.pk))
    assert update["data"]["state"]["isActive"] is True
    assert update["data"]["state"]["value"] == 70.0
    assert update["data"]["commandId"] == command_id
    assert [e["data"]["status"] for e in live.events("command:status")][:2] == ["pending", "sent"]

    lamp.refresh_from_db()
    assert lamp.is_active is True and float(lamp.value) == 70.0
    assert lamp.reported_at is not None
    command = Command.objects.get(pk=command_id)
    assert command.status == "confirmed"
    assert command.reported_state == {"isActive": True, "value": 70.0}
    assert [row.value for row in history(home, measurement="state", field="value", device=lamp)] == [70.0]


def test_ir_command_is_assumed_and_sends_the_learned_signal(api, setup, mqtt, listener, sim_hub, feed):
    home, ac = setup["home"], setup["ac"]
    hub = sim_hub(setup["hub"], [ac])
    live = feed(home.pk)

    response = api.put(control_url(home, ac), {"value": 24}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "assumed"
    command = Command.objects.get(pk=response.json()["commandId"])
    assert command.payload == {"action": "TEMP_UP", "signal": "0xA3", "value": 24.0}
    ac.refresh_from_db()
    assert float(ac.value) == 24.0
    assert live.wait_for("device:update", deviceId=str(ac.pk))["data"]["assumed"] is True
    assert [row.value for row in history(home, measurement="state", field="value", device=ac)] == [24.0]
    wait_until(lambda: hub.commands_seen == 1)


def test_a_missing_signal_is_a_409_naming_it(api, setup, mqtt):
    home, ac = setup["home"], setup["ac"]

    response = api.put(control_url(home, ac), {"value": 18}, format="json")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "signal_not_learned"
    assert error["fields"] == {"action": ["TEMP_DOWN"]}
    assert "TEMP_DOWN" in error["message"]
    assert not Command.objects.filter(device=ac).exists()


@pytest.mark.parametrize("body, field", [
    ({"value": 150}, "value"),
    ({"value": -1}, "value"),
    ({"isActive": "maybe"}, "isActive"),
    ({}, "isActive"),
    ({"value": "bright"}, "value"),
])
def test_out_of_range_or_malformed_control_is_a_400_naming_the_field(api, setup, mqtt, body, field):
    home, lamp = setup["home"], setup["lamp"]

    response = api.put(control_url(home, lamp), body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Command.objects.exists()


def test_a_sensor_cannot_be_controlled(api, setup, mqtt):
    response = api.put(control_url(setup["home"], setup["sensor"]), {"isActive": True}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_controllable"


def test_an_unanswered_command_expires(api, setup, mqtt, sim_hub, feed, settings):
    home, lamp = setup["home"], setup["lamp"]
    sim_hub(setup["hub"], [lamp], answer_rate=0.0)
    live = feed(home.pk)
    command_id = api.put(control_url(home, lamp), {"isActive": True}, format="json").json()["commandId"]
    settings.COMMAND_TIMEOUT_SECONDS = 0

    assert commands_expire() == 1

    assert Command.objects.get(pk=command_id).status == "expired"
    live.wait_for("command:status", commandId=command_id, status="expired")
    lamp.refresh_from_db()
    assert lamp.is_active is False  # nothing confirmed it, so the device state did not move


def test_broker_down_is_a_503_and_the_command_failed(api, setup, settings):
    from hubs.mqtt import publisher

    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens on port 1
    publisher.reset()

    response = api.put(control_url(setup["home"], setup["lamp"]), {"isActive": True}, format="json")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "hub_unreachable"
    assert Command.objects.get().status == "failed"
    publisher.reset()
