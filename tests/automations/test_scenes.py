"""Scene activation end to end (REST -> commands -> broker -> simulated hub -> listener), the
run's outcomes following its commands, and `isActive` falling on the first deviation."""
import uuid

import pytest

from automations.models import Scene, SceneRun
from devices import services as device_services
from devices.models import Command
from tests import factories as f
from tests.events import capture_events

from tests.ingest.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(home):
    room = f.RoomFactory(home=home, name="Living room")
    hub = f.HubFactory(home=home)
    attic_hub = f.HubFactory(home=home, status="offline")
    attic = f.RoomFactory(home=home, name="Attic")
    lamp = f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee")
    plug = f.DeviceFactory(room=room, hub=hub, name="Floor lamp", type="light", category="Zigbee")
    fan = f.DeviceFactory(room=attic, hub=attic_hub, name="Attic light", type="light", category="Zigbee")
    tv = f.DeviceFactory(room=room, hub=hub, name="TV", type="tv", category="IR", signal_mappings={"ON": "0x20DF10EF"})
    return {"home": home, "hub": hub, "lamp": lamp, "plug": plug, "fan": fan, "tv": tv}


def activate(api, scene):
    return api.put(f"/api/homes/{scene.home_id}/scenes/{scene.pk}/activate")


def by_device(outcomes):
    return {o["deviceId"]: o for o in outcomes}


def test_activation_sends_every_reachable_device_and_says_why_the_others_were_skipped(api, setup, listener, sim_hub, feed):
    home, lamp, plug, fan, tv = (setup[k] for k in ("home", "lamp", "plug", "fan", "tv"))
    listener()
    hub = sim_hub(setup["hub"], [lamp, plug, tv])
    gone = str(uuid.uuid4())
    scene = Scene.objects.create(home=home, name="Evening", device_states={
        str(lamp.pk): {"isActive": True, "value": 40}, str(plug.pk): {"isActive": True},
        str(fan.pk): {"isActive": True}, str(tv.pk): {"isActive": False}, gone: {"isActive": True}})
    live = feed(home.pk)

    response = activate(api, scene)

    assert response.status_code == 200, response.content
    run = response.json()
    outcomes = by_device(run["outcomes"])
    assert {k: (v["status"] != "skipped", v["skipped"]) for k, v in outcomes.items()} == {
        str(lamp.pk): (True, None), str(plug.pk): (True, None), str(fan.pk): (False, "hub_offline"),
        str(tv.pk): (False, "signal_not_learned"), gone: (False, "device_deleted")}
    assert "OFF" in outcomes[str(tv.pk)]["message"]
    sent = {outcomes[str(d.pk)]["commandId"] for d in (lamp, plug)}
    assert Command.objects.filter(pk__in=sent).count() == 2
    assert not Command.objects.filter(device__in=[fan, tv]).exists()
    # Both commands reach the hub, which confirms them; the stored run follows.
    for command_id in sent:
        live.wait_for("command:status", commandId=command_id, status="confirmed")
    wait_until(lambda: hub.commands_seen == 2)
    runs = api.get(f"/api/homes/{home.pk}/scenes/{scene.pk}/runs").json()
    assert [r["id"] for r in runs["results"]] == [run["id"]]
    assert {o["deviceId"]: o["status"] for o in runs["results"][0]["outcomes"]} == {
        str(lamp.pk): "confirmed", str(plug.pk): "confirmed", str(fan.pk): "skipped", str(tv.pk): "skipped",
        gone: "skipped"}
    lamp.refresh_from_db()
    assert lamp.is_active is True and float(lamp.value) == 40.0
    activated = live.wait_for("scene:activated", sceneId=str(scene.pk))["data"]
    assert activated["runId"] == run["id"] and activated["source"] == "user"
    # Skipped devices make the scene not what it says: it is not active.
    assert activated["isActive"] is False
    scene.refresh_from_db()
    assert scene.is_active is False
    assert SceneRun.objects.get(pk=run["id"]).actor_id == home.owner.pk


def test_activation_publishes_the_commands_then_the_run(api, setup):
    home, lamp, plug = setup["home"], setup["lamp"], setup["plug"]
    scene = f.make_scene(home, [lamp, plug], name="Both")
    with capture_events(home.pk) as events:
        response = activate(api, scene)
    assert response.status_code == 200, response.content
    run = response.json()
    commands = [o["commandId"] for o in run["outcomes"]]
    # Recorded together, sent together: every command's pending, then every command's sent.
    assert [(name, data["commandId"], data["status"]) for name, data in events[:4]] == [
        ("command:status", commands[0], "pending"), ("command:status", commands[1], "pending"),
        ("command:status", commands[0], "sent"), ("command:status", commands[1], "sent")]
    assert events[4:] == [("scene:activated", {
        "sceneId": str(scene.pk), "name": "Both", "runId": run["id"], "source": "user", "isActive": True,
        "outcomes": [dict(o, status="sent") for o in run["outcomes"]]})]
    assert {o["deviceId"] for o in run["outcomes"]} == {str(lamp.pk), str(plug.pk)}


def test_a_scene_stays_active_until_a_device_deviates_from_a_wall_switch(api, setup, listener, sim_hub, feed):
    home, lamp, plug = setup["home"], setup["lamp"], setup["plug"]
    listener()
    hub = sim_hub(setup["hub"], [lamp, plug])
    scene = f.make_scene(home, [lamp, plug], name="All on")
    live = feed(home.pk)

    run = activate(api, scene).json()
    for o in run["outcomes"]:
        live.wait_for("command:status", commandId=o["commandId"], status="confirmed")
    scene.refresh_from_db()
    assert scene.is_active is True
    # A report that agrees with the scene changes nothing.
    hub.report_state(hub.devices[str(plug.pk)]).wait_for_publish(5)
    live.wait_for("device:update", deviceId=str(plug.pk))
    assert Scene.objects.get(pk=scene.pk).is_active is True

    # Someone turns the lamp off at the wall.
    hub.devices[str(lamp.pk)].is_active = False
    hub.report_state(hub.devices[str(lamp.pk)]).wait_for_publish(5)

    update = live.wait_for("scene:update", sceneId=str(scene.pk))["data"]
    assert update == {"sceneId": str(scene.pk), "name": "All on", "isActive": False, "deviceId": str(lamp.pk)}
    assert Scene.objects.get(pk=scene.pk).is_active is False
    assert api.get(f"/api/homes/{home.pk}/scenes/{scene.pk}").json()["isActive"] is False


def test_a_report_from_before_the_scene_does_not_count_while_its_command_is_open(api, setup, listener, sim_hub, feed):
    home, lamp = setup["home"], setup["lamp"]
    listener()
    # The hub takes the command but never answers it: the command stays sent.
    hub = sim_hub(setup["hub"], [lamp], answer_rate=0.0)
    scene = f.make_scene(home, [lamp], name="Lamp on")
    live = feed(home.pk)
    run = activate(api, scene).json()
    wait_until(lambda: hub.commands_seen == 1)
    # The hub's periodic report still says off (it crossed the command on its way).
    hub.report_state(hub.devices[str(lamp.pk)]).wait_for_publish(5)
    live.wait_for("device:update", deviceId=str(lamp.pk))
    assert Command.objects.get(pk=run["outcomes"][0]["commandId"]).status == "sent"
    assert Scene.objects.get(pk=scene.pk).is_active is True
    assert live.events("scene:update") == []


def test_an_edit_through_the_api_ends_the_scene(api, setup):
    home, lamp, plug = setup["home"], setup["lamp"], setup["plug"]
    scene = f.make_scene(home, [lamp, plug], name="All on")
    run = activate(api, scene).json()
    Command.objects.filter(pk__in=[o["commandId"] for o in run["outcomes"]]).update(status="confirmed")
    # The hub's reports would say so; here the devices are set through the API's service.
    for device in (lamp, plug):
        device_services.device_update(device=device, is_active=True)
    assert Scene.objects.get(pk=scene.pk).is_active is True

    with capture_events(home.pk) as events:
        response = api.patch(f"/api/homes/{home.pk}/devices/{plug.pk}", {"isActive": False}, format="json")

    assert response.status_code == 200, response.content
    assert Scene.objects.get(pk=scene.pk).is_active is False
    assert [name for name, _ in events] == ["scene:update", "device:update"]
    assert events[0][1] == {"sceneId": str(scene.pk), "name": "All on", "isActive": False, "deviceId": str(plug.pk)}


def test_group_control_sends_to_members_that_can_and_lists_the_rest(api, setup, listener, sim_hub, feed):
    home, lamp, plug, fan = setup["home"], setup["lamp"], setup["plug"], setup["fan"]
    sensor = f.DeviceFactory(room=lamp.room, hub=setup["hub"], name="Sensor", type="sensor", category="Sensor")
    group = f.make_group(home, [lamp, plug, fan, sensor])
    listener()
    hub = sim_hub(setup["hub"], [lamp, plug])
    live = feed(home.pk)

    response = api.put(f"/api/homes/{home.pk}/device-groups/{group.pk}/control", {"isActive": True}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["groupId"], body["sent"], body["skipped"]) == (str(group.pk), 2, 2)
    outcomes = by_device(body["outcomes"])
    assert outcomes[str(fan.pk)]["skipped"] == "hub_offline"
    assert outcomes[str(sensor.pk)]["skipped"] == "not_controllable"
    for device in (lamp, plug):
        assert outcomes[str(device.pk)]["status"] in ("pending", "sent", "confirmed")
        live.wait_for("command:status", commandId=outcomes[str(device.pk)]["commandId"], status="confirmed")
    wait_until(lambda: hub.commands_seen == 2)


def test_group_control_needs_something_to_do(api, setup):
    group = f.make_group(setup["home"], [setup["lamp"]])
    response = api.put(f"/api/homes/{setup['home'].pk}/device-groups/{group.pk}/control", {}, format="json")
    assert response.status_code == 400
    assert "isActive" in response.json()["error"]["fields"]
    assert not Command.objects.exists()


def test_guests_may_read_runs_but_not_activate(setup, as_role):
    home = setup["home"]
    scene = f.make_scene(home, [setup["lamp"]])
    guest = as_role("guest")
    assert guest.put(f"/api/homes/{home.pk}/scenes/{scene.pk}/activate").status_code == 403
    assert guest.get(f"/api/homes/{home.pk}/scenes/{scene.pk}/runs").status_code == 200
    assert not SceneRun.objects.exists()
