"""Scenes, schedules, groups and automations: every validation path names the offending field."""
import pytest

from automations.models import Automation, Scene, Schedule
from tests import factories as f

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def foreign_device(db):
    room = f.RoomFactory(home=f.make_home(name="Other"))
    return f.DeviceFactory(room=room, name="Foreign")


def H(w):
    return f"/api/homes/{w['home'].pk}"


def refused(response, field):
    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert field in fields, fields
    return fields[field]


# --- scenes -------------------------------------------------------------------------------


def scene(api, w, states):
    return api.post(f"{H(w)}/scenes", {"name": "Movie", "deviceStates": states}, format="json")


def test_scene_is_created_with_its_devices(api, world):
    lamp = str(world["lamp"].pk)
    response = scene(api, world, {lamp: {"isActive": True, "value": 30}})
    assert response.status_code == 201
    assert response.json()["devices"] == [lamp]
    assert Scene.objects.get(pk=response.json()["id"]).device_states == {lamp: {"isActive": True, "value": 30}}


def test_scene_unknown_device(api, world):
    refused(scene(api, world, {UNKNOWN: {"isActive": True}}), f"deviceStates.{UNKNOWN}")


def test_scene_device_of_another_home(api, world, foreign_device):
    refused(scene(api, world, {str(foreign_device.pk): {"isActive": True}}), f"deviceStates.{foreign_device.pk}")


@pytest.mark.parametrize(
    "state,path",
    [({"isActive": "yes"}, "isActive"), ({"value": True}, "value"), ({"brightness": 3}, "brightness"), ({}, None)],
)
def test_scene_wrong_state_types(api, world, state, path):
    lamp = str(world["lamp"].pk)
    field = f"deviceStates.{lamp}" + (f".{path}" if path else "")
    refused(scene(api, world, {lamp: state}), field)


def test_scene_must_name_devices(api, world):
    refused(scene(api, world, {}), "deviceStates")
    refused(scene(api, world, ["x"]), "deviceStates")


# --- schedules ----------------------------------------------------------------------------


def schedule(api, w, **overrides):
    body = {"name": "Wake", "time": "06:45", "days": ["monday"], "actions": [{"type": "scene", "sceneId": str(w["scene"].pk)}]}
    return api.post(f"{H(w)}/schedules", body | overrides, format="json")


def test_schedule_is_created_with_next_run(api, world):
    response = schedule(api, world, days=["Monday", "friday"])
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["time"] == "06:45" and data["days"] == ["monday", "friday"] and data["nextRunAt"]


@pytest.mark.parametrize("time", ["25:00", "7pm", "", 645, "06:60"])
def test_schedule_bad_time(api, world, time):
    refused(schedule(api, world, time=time), "time")


def test_schedule_unknown_day(api, world):
    assert "funday" in refused(schedule(api, world, days=["monday", "funday"]), "days.1")[0]
    refused(schedule(api, world, days=[]), "days")
    refused(schedule(api, world, days="monday"), "days")


@pytest.mark.parametrize(
    "action,field",
    [
        ({"type": "explode"}, "actions.0.type"),
        ({"type": "delay", "seconds": 5}, "actions.0.type"),  # not a schedule action
        ({"type": {}}, "actions.0.type"),
        ({"type": "scene", "sceneId": UNKNOWN}, "actions.0.sceneId"),
        ({"type": "scene", "sceneId": "nope"}, "actions.0.sceneId"),
        ({"type": "device", "deviceId": UNKNOWN, "state": {"isActive": True}}, "actions.0.deviceId"),
        ({"type": "group", "state": {"isActive": True}}, "actions.0.groupId"),
        ("scene", "actions.0"),
    ],
)
def test_schedule_bad_actions(api, world, action, field):
    refused(schedule(api, world, actions=[action]), field)


def test_schedule_device_of_another_home(api, world, foreign_device):
    action = {"type": "device", "deviceId": str(foreign_device.pk), "state": {"isActive": True}}
    refused(schedule(api, world, actions=[action]), "actions.0.deviceId")


def test_schedule_disabled_has_no_next_run(api, world):
    response = api.patch(f"{H(world)}/schedules/{world['schedule'].pk}", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["nextRunAt"] is None


# --- device groups ------------------------------------------------------------------------


def group(api, w, device_ids):
    return api.post(f"{H(w)}/device-groups", {"name": "Lights", "deviceIds": device_ids}, format="json")


def test_group_members_are_real_devices(api, world):
    ids = [str(world["lamp"].pk), str(world["tv"].pk)]
    response = group(api, world, ids)
    assert response.status_code == 201
    assert response.json()["deviceIds"] == sorted(ids, key=ids.index)


def test_group_unknown_device(api, world):
    refused(group(api, world, [UNKNOWN]), "deviceIds.0")


def test_group_device_of_another_home(api, world, foreign_device):
    refused(group(api, world, [str(world["lamp"].pk), str(foreign_device.pk)]), "deviceIds.1")


def test_group_duplicate_device(api, world):
    refused(group(api, world, [str(world["lamp"].pk)] * 2), "deviceIds")


def test_group_ids_must_be_uuids(api, world):
    refused(group(api, world, [7]), "deviceIds.0")


# --- automations --------------------------------------------------------------------------


def automation(api, w, **overrides):
    body = {
        "name": "Night",
        "trigger": {"type": "time", "at": "22:00", "days": ["friday"]},
        "conditions": [{"type": "device_state", "deviceId": str(w["lamp"].pk), "equals": True}],
        "actions": [{"type": "device", "deviceId": str(w["lamp"].pk), "state": {"isActive": False}}, {"type": "delay", "seconds": 30}],
    }
    return api.post(f"{H(w)}/automations", body | overrides, format="json")


def test_automation_is_created(api, world):
    response = automation(api, world)
    assert response.status_code == 201, response.content
    stored = Automation.objects.get(pk=response.json()["id"])
    assert stored.trigger == {"type": "time", "at": "22:00", "days": ["friday"]}
    assert stored.conditions[0]["attribute"] == "isActive"


@pytest.mark.parametrize(
    "trigger,field",
    [
        ({"type": "weather"}, "trigger.type"),
        ({"at": "22:00"}, "trigger.type"),
        ({"type": "time", "at": "26:00"}, "trigger.at"),
        ({"type": "time", "at": "22:00", "days": ["someday"]}, "trigger.days.0"),
        ({"type": "device", "deviceId": UNKNOWN}, "trigger.deviceId"),
        ({"type": "sensor", "deviceId": None, "field": "power", "above": 5}, "trigger.deviceId"),
        ({"type": "device", "deviceId": "LAMP", "above": "high"}, "trigger.above"),
        ([], "trigger"),
    ],
)
def test_automation_bad_trigger(api, world, trigger, field):
    if isinstance(trigger, dict) and trigger.get("deviceId") == "LAMP":
        trigger = trigger | {"deviceId": str(world["lamp"].pk)}
    refused(automation(api, world, trigger=trigger), field)


@pytest.mark.parametrize(
    "condition,field",
    [
        ({"type": "moon_phase"}, "conditions.0.type"),
        ({"type": "time_window", "after": "22:00", "before": "noon"}, "conditions.0.before"),
        ({"type": "day_of_week", "days": ["caturday"]}, "conditions.0.days.0"),
        ({"type": "device_state", "deviceId": UNKNOWN, "equals": True}, "conditions.0.deviceId"),
    ],
)
def test_automation_bad_condition(api, world, condition, field):
    refused(automation(api, world, conditions=[condition]), field)


@pytest.mark.parametrize(
    "action,field",
    [
        ({"type": "launch"}, "actions.0.type"),
        ({"type": "delay", "seconds": 0}, "actions.0.seconds"),
        ({"type": "delay", "seconds": "soon"}, "actions.0.seconds"),
        ({"type": "notify", "message": ""}, "actions.0.message"),
        ({"type": "notify", "message": "Hi", "severity": "urgent"}, "actions.0.severity"),
        ({"type": "device", "deviceId": "LAMP", "state": {"isActive": 1}}, "actions.0.state.isActive"),
        ({"type": "device", "deviceId": "LAMP", "state": {"value": "bright"}}, "actions.0.state.value"),
    ],
)
def test_automation_bad_action(api, world, action, field):
    if action.get("deviceId") == "LAMP":
        action = action | {"deviceId": str(world["lamp"].pk)}
    refused(automation(api, world, actions=[action]), field)


def test_automation_device_of_another_home(api, world, foreign_device):
    action = {"type": "device", "deviceId": str(foreign_device.pk), "state": {"isActive": True}}
    refused(automation(api, world, actions=[action]), "actions.0.deviceId")


def test_automation_needs_actions(api, world):
    refused(automation(api, world, actions=[]), "actions")


def test_nothing_was_stored_by_refused_writes(api, world):
    before = (Scene.objects.count(), Schedule.objects.count(), Automation.objects.count())
    scene(api, world, {UNKNOWN: {"isActive": True}})
    schedule(api, world, time="99:99")
    automation(api, world, trigger={"type": "nope"})
    assert (Scene.objects.count(), Schedule.objects.count(), Automation.objects.count()) == before
