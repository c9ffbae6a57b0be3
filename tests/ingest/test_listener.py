"""The ingest listener: reports of every kind, bad input skipped and counted, redeliveries
harmless, hub presence, IR/RF learning."""
import datetime
import json
import logging

import paho.mqtt.client as paho
import pytest

from devices.models import Device, LearnSession
from devices.tasks import learn_sessions_expire
from hubs.models import Hub
from hubs.mqtt import topics
from hubs.tasks import offline_sweep
from tests import factories as f

from .conftest import HOST, history, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(home):
    room = f.RoomFactory(home=home, name="Living room")
    hub = f.HubFactory(home=home)
    other_hub = f.HubFactory(home=home)
    lamp = f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee")
    plug = f.DeviceFactory(room=room, hub=other_hub, name="Plug", type="light", category="Zigbee")
    tv = f.DeviceFactory(room=room, hub=hub, name="TV", type="tv", category="IR", signal_mappings={"ON": "0x1"})
    return {"home": home, "hub": hub, "other_hub": other_hub, "lamp": lamp, "plug": plug, "tv": tv}


@pytest.fixture
def raw_hub(mqtt):
    """A bare MQTT client standing in for a hub that sends exactly what a test says."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="raw-hub", protocol=paho.MQTTv311)
    client.connect(HOST, mqtt.port)
    client.loop_start()

    def send(topic: str, payload, *, retain: bool = False):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        client.publish(topic, data, qos=1, retain=retain).wait_for_publish(5)

    yield send
    client.disconnect()
    client.loop_stop()


def state_topic(hub, device, kind="state"):
    return topics.device_report(hub.pk, device.pk, kind)


def test_bad_reports_are_counted_and_skipped_and_the_loop_goes_on(setup, listener, raw_hub):
    hub, lamp, plug = setup["hub"], setup["lamp"], setup["plug"]
    running = listener()
    unknown = "00000000-0000-0000-0000-000000000001"

    raw_hub(state_topic(hub, lamp), b"{not json")
    raw_hub(state_topic(hub, lamp), [1, 2])
    raw_hub(topics.device_report(unknown, lamp.pk, "state"), {"state": {"isActive": True}})
    raw_hub(topics.device_report(hub.pk, unknown, "state"), {"state": {"isActive": True}})
    raw_hub(state_topic(hub, plug), {"state": {"isActive": True}})  # plug is on the other hub
    raw_hub(state_topic(hub, lamp), {"state": {"isActive": True, "value": 250}})
    raw_hub(state_topic(hub, lamp, "telemetry"), {"power": -5})
    raw_hub(state_topic(hub, lamp), {"state": {"isActive": True, "value": 40}, "ts": "2026-01-01T10:00:00Z"})

    wait_until(lambda: running.stats["applied"] >= 1)
    stats = running.stats
    assert stats["rejected.malformed_json"] == 2
    assert stats["rejected.unknown_hub"] == 1
    assert stats["rejected.unknown_device"] == 1
    assert stats["rejected.device_not_on_hub"] == 1
    assert stats["rejected.out_of_range"] == 2
    lamp.refresh_from_db()
    plug.refresh_from_db()
    assert lamp.is_active is True and float(lamp.value) == 40.0
    assert plug.is_active is False


def test_a_hub_cannot_forge_log_lines(setup, listener, raw_hub, caplog):
    hub, lamp = setup["hub"], setup["lamp"]
    running = listener()
    forged = b'{"state": 1\n2026-12-03 10:00:00 ERROR hubs.ingest: all hubs offline \x1b[31m\x00' + b"x" * 5000

    with caplog.at_level(logging.WARNING, logger="hubs.ingest"):
        raw_hub(state_topic(hub, lamp), forged)
        # Mosquitto refuses control characters in topics; a line separator passes.
        raw_hub(topics.device_report(hub.pk, "line\u2028break", "state"), {"state": {}})
        wait_until(lambda: running.stats["rejected.malformed_json"] + running.stats["rejected.unknown_topic"]
                   + running.stats["rejected.unknown_device"] >= 2)

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("hubs.ingest") and "skipped" in r.getMessage()]
    assert len(lines) == 2, lines
    for line in lines:
        assert not any(ch in line for ch in "\n\r\x1b\x00\u2028"), line
        assert len(line) < 800
    assert "\\n2026-12-03 10:00:00 ERROR" in lines[0]  # still readable, escaped


def test_a_redelivered_report_changes_nothing(setup, listener, raw_hub, feed):
    hub, lamp = setup["hub"], setup["lamp"]
    running = listener()
    live = feed(setup["home"].pk)
    report = {"state": {"isActive": True, "value": 55}, "ts": "2026-03-01T08:00:00+00:00"}

    raw_hub(state_topic(hub, lamp), report)
    live.wait_for("device:update", deviceId=str(lamp.pk))
    raw_hub(state_topic(hub, lamp), report)
    raw_hub(state_topic(hub, lamp), {"state": {"isActive": False}, "ts": "2026-03-01T07:59:00+00:00"})

    wait_until(lambda: running.stats["duplicates"] == 2)
    lamp.refresh_from_db()
    assert lamp.is_active is True and float(lamp.value) == 55.0
    assert lamp.reported_at.isoformat() == "2026-03-01T08:00:00+00:00"
    assert running.stats["applied"] == 1
    assert len(live.events("device:update")) == 1
    assert [row.value for row in history(setup["home"], measurement="state", field="value", device=lamp)] == [55.0]


def test_telemetry_advances_the_device_watermark_once(setup, listener, raw_hub):
    hub, lamp = setup["hub"], setup["lamp"]
    running = listener()
    sample = {"power": 8.5, "energy": 120.25, "ts": "2026-03-01T08:00:00Z"}

    raw_hub(state_topic(hub, lamp, "telemetry"), sample)
    raw_hub(state_topic(hub, lamp, "telemetry"), sample)

    wait_until(lambda: running.stats["applied"] + running.stats["duplicates"] == 2)
    assert running.stats["applied"] == 1 and running.stats["duplicates"] == 1
    lamp.refresh_from_db()
    assert lamp.telemetry_at.isoformat() == "2026-03-01T08:00:00+00:00"
    stored = history(setup["home"], measurement="telemetry", field="power", device=lamp)
    assert [(row.ts.isoformat(), row.value) for row in stored] == [("2026-03-01T08:00:00+00:00", 8.5)]


def test_hub_status_and_heartbeat_keep_the_hub_honest(setup, listener, raw_hub, feed, settings):
    hub = setup["hub"]
    Hub.objects.filter(pk=hub.pk).update(status=Hub.Status.OFFLINE)
    live = feed(setup["home"].pk)
    listener()

    raw_hub(topics.hub_status(hub.pk), {"status": "online"}, retain=True)
    online = live.wait_for("hub:status", hubId=str(hub.pk), status="online")
    assert online["data"]["lastSeenAt"] is not None
    raw_hub(topics.hub_status(hub.pk), {"status": "offline"}, retain=True)
    live.wait_for("hub:status", hubId=str(hub.pk), status="offline")
    raw_hub(state_topic(hub, setup["lamp"]), {"state": {"isActive": True}})
    live.wait_for("hub:status", hubId=str(hub.pk), status="online", timeout=10)
    assert Hub.objects.get(pk=hub.pk).status == "online"

    settings.HUB_HEARTBEAT_TIMEOUT_SECONDS = 0
    assert offline_sweep() >= 1
    assert Hub.objects.get(pk=hub.pk).status == "offline"
    assert len(live.events("hub:status")) >= 3
    transitions = history(setup["home"], measurement="hub_status", field="online")
    assert [row.value for row in transitions] == [1.0, 0.0, 1.0, 0.0]
    live.wait_for("hub:status", hubId=str(hub.pk), status="offline")
    raw_hub(topics.hub_status(hub.pk), b"", retain=True)  # clear the retained message


def test_learning_stores_the_signal_the_hub_captured(api, setup, listener, sim_hub, feed):
    home, hub, tv = setup["home"], setup["hub"], setup["tv"]
    listener()
    sim_hub(hub, [tv])
    live = feed(home.pk)

    response = api.post(f"/api/hubs/{hub.pk}/devices/{tv.pk}/learn", {"action": "VOL_UP"}, format="json")

    assert response.status_code == 201, response.content
    session_id = response.json()["sessionId"]
    assert response.json()["status"] == "open"
    learned = live.wait_for("learn:status", sessionId=session_id, status="learned")
    # The same payload the REST path publishes for a session, from the listener too.
    assert set(learned["data"]) == {"sessionId", "deviceId", "hubId", "action", "status", "expiresAt"}
    expires = [datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
               for t in (learned["data"]["expiresAt"], response.json()["expiresAt"])]
    assert expires[0] == expires[1]
    tv.refresh_from_db()
    assert tv.signal_mappings["VOL_UP"].startswith("0x")
    assert tv.signal_mappings["ON"] == "0x1"
    assert LearnSession.objects.get(pk=session_id).status == "learned"


def test_an_unanswered_learning_session_expires(api, setup, mqtt, sim_hub, feed, settings):
    home, hub, tv = setup["home"], setup["hub"], setup["tv"]
    sim_hub(hub, [tv], answer_rate=0.0)
    live = feed(home.pk)
    settings.LEARN_SESSION_TIMEOUT_SECONDS = 0
    session_id = api.post(f"/api/hubs/{hub.pk}/devices/{tv.pk}/learn", {"action": "OFF"}, format="json").json()["sessionId"]

    assert learn_sessions_expire() == 1

    live.wait_for("learn:status", sessionId=session_id, status="expired")
    assert "OFF" not in Device.objects.get(pk=tv.pk).signal_mappings


@pytest.mark.parametrize("body, code, status", [
    ({"action": "turn on"}, "invalid", 400),
    ({}, "invalid", 400),
])
def test_learn_rejects_bad_action_names(api, setup, mqtt, body, code, status):
    response = api.post(f"/api/hubs/{setup['hub'].pk}/devices/{setup['tv'].pk}/learn", body, format="json")

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "action" in response.json()["error"]["fields"]


def test_only_ir_and_rf_devices_learn(api, setup, mqtt):
    response = api.post(f"/api/hubs/{setup['hub'].pk}/devices/{setup['lamp'].pk}/learn", {"action": "ON"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_learnable"


def test_a_device_of_another_hub_is_not_found_for_learning(api, setup, mqtt):
    response = api.post(f"/api/hubs/{setup['hub'].pk}/devices/{setup['plug'].pk}/learn", {"action": "ON"}, format="json")

    assert response.status_code == 404


def test_the_listeners_counters_reach_the_health_endpoint(setup, listener, raw_hub, anon):
    hub, lamp = setup["hub"], setup["lamp"]
    running = listener()
    raw_hub(state_topic(hub, lamp), b"{not json")
    raw_hub(state_topic(hub, lamp), {"state": {"isActive": True, "value": 30}})
    wait_until(lambda: running.stats["applied"] >= 1)
    running.log_stats()  # what the loop does every STATS_EVERY_SECONDS and on shutdown

    body = anon.get("/healthz").json()
    assert body["status"] == "ok" and body["checks"] == {"database": "ok", "redis": "ok"}
    mine = [entry for entry in body["mqttListeners"] if entry["clientId"] == running.client_id]
    assert len(mine) == 1
    assert mine[0]["counters"]["applied"] >= 1 and mine[0]["counters"]["rejected.malformed_json"] == 1
    assert "queued" in mine[0] and mine[0]["reportedAt"] > 0
