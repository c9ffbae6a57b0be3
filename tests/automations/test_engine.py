"""The automation engine against the real database: the trigger index, conditions with their
trace, actions through the control path, durable delays and waits, `for` timers, every mode,
and the loop guard. Runs are started the way a worker starts them (runtime.start); the clock
is injected where time matters. tests/automations/test_engine_worker.py runs a real worker."""
import datetime
import uuid

import pytest
from django.db import transaction

from automations import services
from automations.engine import runtime
from automations.models import Automation, AutomationRun, AutomationTimer, AutomationTrigger
from devices import services as device_services
from devices.models import Command
from devices.state_changes import Reading, StateChange
from tests import factories as f
from tests.events import capture_events

pytestmark = pytest.mark.django_db(transaction=True)
UTC = datetime.UTC


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def place(home):
    room = f.RoomFactory(home=home, name="Hall")
    hub = f.HubFactory(home=home)
    return {
        "home": home, "hub": hub,
        "lamp": f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee"),
        "porch": f.DeviceFactory(room=room, hub=hub, name="Porch", type="light", category="Zigbee"),
        "motion": f.DeviceFactory(room=room, hub=hub, name="Motion", type="sensor", category="Sensor"),
    }


def automation(home, *, trigger, actions, conditions=None, **fields) -> Automation:
    return services.automation_create(home=home, name=fields.pop("name", "Auto"), trigger=trigger,
                                      conditions=conditions or [], actions=actions, **fields)


def turn_on(device):
    return {"type": "device", "deviceId": str(device.pk), "state": {"isActive": True}}


def change(device, *, before, after, ts=None, origin=""):
    return StateChange(home_id=device.home_id, device_id=device.pk, state=after, previous=before,
                       ts=ts or datetime.datetime.now(UTC), origin=origin)


def start_pending(now=None) -> list[AutomationRun]:
    """What the worker does with the runs handed to it."""
    for pk in AutomationRun.objects.filter(status="pending").order_by("created_at").values_list("pk", flat=True):
        runtime.start(pk, now=now)
    return list(AutomationRun.objects.order_by("created_at"))


def test_a_state_change_from_the_api_runs_the_automation_and_traces_it(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "attribute": "isActive",
                                     "equals": True},
                      conditions=[{"type": "device_state", "deviceId": str(porch.pk), "attribute": "isActive",
                                   "equals": False}],
                      actions=[turn_on(porch)])

    device_services.device_update(device=lamp, is_active=True)
    with capture_events(home.pk) as events:
        [run] = start_pending()

    assert run.status == "succeeded"
    assert run.started_at is not None and run.finished_at >= run.started_at and run.step == 1
    assert run.trigger["kind"] == "device" and run.trigger["value"] is True and run.trigger["previous"] is False
    assert run.trace["conditions"] == [{"path": "conditions.0", "type": "device_state", "result": True, "saw": False}]
    [step] = run.trace["actions"]
    command = Command.objects.get(pk=step["devices"][0]["commandId"])
    assert (command.device_id, command.origin) == (porch.pk, f"automation:{auto.pk}")
    assert step["path"] == "actions.0" and "ms" in step
    assert events[-1] == ("automation:run", {"automationId": str(auto.pk), "name": "Auto", "runId": str(run.pk),
                                             "status": "succeeded", "trigger": "device", "step": 1})


def test_a_false_condition_stops_the_run_and_says_what_it_saw(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
               conditions=[{"type": "or", "conditions": [
                   {"type": "device_state", "deviceId": str(porch.pk), "attribute": "isActive", "equals": True},
                   {"type": "not", "conditions": [{"type": "day_of_week", "days": ["monday", "tuesday", "wednesday",
                                                                                   "thursday", "friday", "saturday",
                                                                                   "sunday"]}]}]}],
               actions=[turn_on(porch)])
    device_services.device_update(device=lamp, is_active=True)
    [run] = start_pending()
    assert run.status == "conditions_failed"
    [cond] = run.trace["conditions"]
    assert cond["result"] is False
    assert [(c["type"], c["result"], c["saw"]) for c in cond["saw"]] == [
        ("device_state", False, False), ("not", False, [{"path": "conditions.0.conditions.1.conditions.0",
                                                         "type": "day_of_week", "result": True,
                                                         "saw": cond["saw"][1]["saw"][0]["saw"]}])]
    assert not Command.objects.filter(device=porch).exists()


@pytest.mark.parametrize("local,inside", [("23:30", True), ("03:00", True), ("06:00", False), ("12:00", False)])
def test_a_time_window_across_midnight_is_read_on_the_homes_clock(place, local, inside):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
               conditions=[{"type": "time_window", "after": "22:00", "before": "06:00"}], actions=[turn_on(porch)])
    hour, minute = map(int, local.split(":"))
    # Casa is in Madrid: UTC+1 on 15 January.
    now = datetime.datetime(2026, 1, 15, hour, minute, tzinfo=home.tz).astimezone(UTC)
    device_services.device_update(device=lamp, is_active=True)
    [run] = start_pending(now=now)
    assert run.status == ("succeeded" if inside else "conditions_failed")
    assert run.trace["conditions"][0]["saw"] == f"{local}:00"


def test_numeric_triggers_fire_on_crossing_only(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "attribute": "value", "above": 50},
               actions=[turn_on(porch)])
    for before, after in [(10, 40), (40, 60), (60, 80), (80, 30), (30, 90)]:
        runtime.on_state_changes([change(lamp, before={"value": before}, after={"value": after},
                                         ts=datetime.datetime.now(UTC))])
    runs = start_pending()
    assert [r.trigger["value"] for r in runs] == [60, 90]


def test_only_automations_listening_to_the_device_are_looked_at(place, django_assert_num_queries):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    listening = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
                           actions=[turn_on(porch)])
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True}, actions=[turn_on(porch)],
               enabled=False, name="Off")
    for n in range(30):
        automation(home, trigger={"type": "device", "deviceId": str(porch.pk), "equals": True},
                   actions=[turn_on(lamp)], name=f"Other {n}")
    # Inside the transaction that wrote the state, as observers are called: one lookup (the
    # trigger index, runs waiting on the device, the home's active scenes), one read of the
    # trigger documents this process has not compiled yet, one insert of the pending run...
    with transaction.atomic(), django_assert_num_queries(3):
        runtime.on_state_changes([change(lamp, before={"isActive": False}, after={"isActive": True})])
    # ...and once compiled, no document is read again.
    with transaction.atomic(), django_assert_num_queries(2):
        runtime.on_state_changes([change(lamp, before={"isActive": False}, after={"isActive": True},
                                         ts=datetime.datetime.now(UTC) + datetime.timedelta(seconds=1))])
    assert list(AutomationRun.objects.values_list("automation_id", flat=True)) == [listening.pk, listening.pk]
    assert AutomationTrigger.objects.filter(automation__enabled=False).count() == 0


def test_the_same_trigger_event_starts_one_run(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True}, actions=[turn_on(porch)])
    event = change(lamp, before={"isActive": False}, after={"isActive": True}, ts=at(2026, 1, 1, 12))
    runtime.on_state_changes([event])
    runtime.on_state_changes([event])  # a redelivered report
    [run] = start_pending()
    assert runtime.start(run.pk).status == "succeeded"  # a redelivered task: nothing more
    assert Command.objects.filter(device=porch).count() == 1


def test_a_delay_is_stored_and_resumed_by_the_tick(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
               actions=[{"type": "delay", "seconds": 600}, turn_on(porch)])
    t0 = datetime.datetime.now(UTC)
    device_services.device_update(device=lamp, is_active=True)
    [run] = start_pending(now=t0)
    assert (run.status, run.step) == ("waiting", 1)
    assert run.resume_at == t0 + datetime.timedelta(seconds=600)
    assert run.trace["actions"][0]["delayedUntil"] == run.resume_at.isoformat()

    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=599))
    assert AutomationRun.objects.get(pk=run.pk).status == "waiting"
    assert not Command.objects.filter(device=porch).exists()
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=601))
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert run.trace["actions"][0]["outcome"] == "delay over"
    assert Command.objects.filter(device=porch).count() == 1
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=700))
    assert Command.objects.filter(device=porch).count() == 1


def test_a_wait_for_state_resumes_when_the_state_comes_or_times_out(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
               actions=[{"type": "wait", "deviceId": str(porch.pk), "attribute": "isActive", "equals": True,
                         "timeout": 300}, {"type": "notify", "message": "Porch is on"}],
               mode="parallel")
    t0 = datetime.datetime.now(UTC)
    device_services.device_update(device=lamp, is_active=True)
    [first] = start_pending(now=t0)
    assert first.status == "waiting" and first.wait_device_id == porch.pk

    with capture_events(home.pk) as events:
        device_services.device_update(device=porch, is_active=True)
        runtime.resume(first.pk)
    first.refresh_from_db()
    assert first.status == "succeeded"
    assert first.trace["actions"][0]["outcome"] == "state reached" and first.trace["actions"][0]["saw"] is True
    assert ("automation:notify", {"automationId": str(first.automation_id), "name": "Auto", "runId": str(first.pk),
                                  "message": "Porch is on"}) in events

    device_services.device_update(device=porch, is_active=False)
    device_services.device_update(device=lamp, is_active=False)
    device_services.device_update(device=lamp, is_active=True)
    t1 = datetime.datetime.now(UTC)
    second = [r for r in start_pending(now=t1) if r.pk != first.pk][0]
    assert second.status == "waiting"
    runtime.engine_tick(now=t1 + datetime.timedelta(seconds=301))
    second.refresh_from_db()
    assert second.status == "succeeded" and second.trace["actions"][0]["outcome"] == "timed out"


def test_a_for_trigger_fires_after_holding_and_is_cancelled_by_a_change_back(place):
    home, motion, lamp = place["home"], place["motion"], place["lamp"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(motion.pk), "attribute": "isActive",
                                     "equals": False, "for": 600}, actions=[{**turn_on(lamp), "state": {"isActive": False}}])
    t0 = datetime.datetime.now(UTC)
    runtime.on_state_changes([change(motion, before={"isActive": True}, after={"isActive": False}, ts=t0)])
    timer = AutomationTimer.objects.get(automation=auto)
    assert abs((timer.due_at - t0).total_seconds() - 600) < 5
    # Motion again before ten minutes: cancelled.
    runtime.on_state_changes([change(motion, before={"isActive": False}, after={"isActive": True})])
    assert not AutomationTimer.objects.exists()
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=700))
    assert not AutomationRun.objects.exists()

    # No motion for ten minutes: it fires once.
    t1 = datetime.datetime.now(UTC)
    runtime.on_state_changes([change(motion, before={"isActive": True}, after={"isActive": False}, ts=t1)])
    runtime.engine_tick(now=t1 + datetime.timedelta(seconds=599))
    assert not AutomationRun.objects.exists()
    runtime.engine_tick(now=t1 + datetime.timedelta(seconds=605))
    [run] = AutomationRun.objects.all()
    assert run.status == "succeeded" and run.trigger["heldFor"] is True
    assert not AutomationTimer.objects.exists()


def test_a_sensor_threshold_fires_when_crossed_and_holds_for(place):
    home, motion, lamp = place["home"], place["motion"], place["lamp"]
    automation(home, trigger={"type": "sensor", "deviceId": str(motion.pk), "field": "temperature", "above": 28},
               actions=[turn_on(lamp)])
    t = datetime.datetime.now(UTC)
    for n, value in enumerate([25, 27, 29, 30, 26, 31]):
        runtime.on_readings([Reading(home_id=home.pk, device_id=motion.pk, fields={"temperature": value},
                                     ts=t + datetime.timedelta(seconds=n))])
    assert [r.trigger["value"] for r in start_pending()] == [29, 31]


@pytest.mark.parametrize("mode,expected", [
    ("single", ["waiting", "dropped"]),
    ("restart", ["cancelled", "waiting"]),
    ("queued", ["waiting", "queued"]),
    ("parallel", ["waiting", "waiting"]),
])
def test_modes_decide_what_a_second_trigger_does_while_running(place, mode, expected):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk)}, mode=mode,
               actions=[{"type": "delay", "seconds": 60}, turn_on(porch)])
    t0 = datetime.datetime.now(UTC)
    for n, value in enumerate([True, False]):
        runtime.on_state_changes([change(lamp, before={"isActive": not value}, after={"isActive": value},
                                         ts=t0 + datetime.timedelta(seconds=n))])
        start_pending(now=t0 + datetime.timedelta(seconds=n))
    runs = list(AutomationRun.objects.order_by("created_at"))
    assert [r.status for r in runs] == expected
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=61))
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=61))
    if mode == "queued":
        # The queued run starts when the first finishes, and waits its own minute.
        start_pending(now=t0 + datetime.timedelta(seconds=62))
        runtime.engine_tick(now=t0 + datetime.timedelta(seconds=130))
    finished = [r.status for r in AutomationRun.objects.order_by("created_at")]
    assert finished == {"single": ["succeeded", "dropped"], "restart": ["cancelled", "succeeded"],
                        "queued": ["succeeded", "succeeded"], "parallel": ["succeeded", "succeeded"]}[mode]


def test_parallel_and_queued_respect_max_runs(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk)}, mode="parallel", max_runs=2,
               actions=[{"type": "delay", "seconds": 60}, turn_on(porch)])
    t0 = datetime.datetime.now(UTC)
    for n in range(4):
        runtime.on_state_changes([change(lamp, before={"isActive": n % 2 == 1}, after={"isActive": n % 2 == 0},
                                         ts=t0 + datetime.timedelta(seconds=n))])
    assert [r.status for r in start_pending(now=t0)] == ["waiting", "waiting", "dropped", "dropped"]


def test_the_loop_guard_stops_an_automation_that_keeps_triggering_itself(place):
    home, lamp = place["home"], place["lamp"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk)},
                      actions=[{**turn_on(lamp), "state": {"isActive": True}}])
    t0 = datetime.datetime.now(UTC)
    origin = f"automation:{auto.pk}"
    with capture_events(home.pk) as events:
        for n in range(runtime.LOOP_LIMIT + 2):
            runtime.on_state_changes([change(lamp, before={"isActive": n % 2 == 1}, after={"isActive": n % 2 == 0},
                                             ts=t0 + datetime.timedelta(milliseconds=n), origin=origin)])
            start_pending()
    auto.refresh_from_db()
    assert auto.enabled is False
    assert "triggered it 11 times" in auto.disabled_reason
    statuses = list(AutomationRun.objects.order_by("created_at").values_list("status", flat=True))
    assert statuses[:runtime.LOOP_LIMIT] == ["succeeded"] * runtime.LOOP_LIMIT
    assert statuses[runtime.LOOP_LIMIT] == "stopped"
    assert ("automation:update", {"automationId": str(auto.pk), "name": "Auto", "enabled": False,
                                  "disabledReason": auto.disabled_reason}) in events
    # Disabled, it is out of the index: more changes start nothing.
    assert not AutomationTrigger.objects.filter(automation=auto).exists()
    # A person's own taps are no loop.
    services.automation_update(automation=auto, enabled=True)
    auto.refresh_from_db()
    assert auto.disabled_reason == ""


def test_a_time_trigger_fires_once_at_its_local_time(place):
    home, porch = place["home"], place["porch"]
    auto = automation(home, trigger={"type": "time", "at": "07:30"}, actions=[turn_on(porch)])
    runtime.index_refresh(auto, now=at(2026, 1, 5, 0, 0))
    row = AutomationTrigger.objects.get(automation=auto)
    assert row.next_at == at(2026, 1, 5, 6, 30)
    assert runtime.engine_tick(now=at(2026, 1, 5, 6, 30, 1))["started"] == 1
    runtime.engine_tick(now=at(2026, 1, 5, 6, 30, 2))
    [run] = AutomationRun.objects.all()
    assert run.status == "succeeded" and run.trigger["at"] == "2026-01-05T06:30:00+00:00"
    assert AutomationTrigger.objects.get(automation=auto).next_at == at(2026, 1, 6, 6, 30)
    # Down for a day: the missed firing is skipped, the next one is tomorrow's.
    runtime.engine_tick(now=at(2026, 1, 7, 9, 0))
    assert AutomationRun.objects.count() == 1
    assert AutomationTrigger.objects.get(automation=auto).next_at == at(2026, 1, 8, 6, 30)


def test_a_sun_trigger_follows_the_homes_sunrise(home, place):
    # Berlin, 21 June 2026: sunrise 04:43 CEST (02:43 UTC) by the published tables.
    home.timezone, home.latitude, home.longitude = "Europe/Berlin", 52.52, 13.405
    home.save(update_fields=["timezone", "latitude", "longitude"])
    auto = automation(home, trigger={"type": "sun", "event": "sunrise", "offset": -600}, actions=[turn_on(place["porch"])])
    runtime.index_refresh(auto, now=at(2026, 6, 20, 12, 0))
    next_at = AutomationTrigger.objects.get(automation=auto).next_at
    assert abs((next_at - at(2026, 6, 21, 2, 33)).total_seconds()) < 120
    assert runtime.engine_tick(now=next_at + datetime.timedelta(seconds=1))["started"] == 1


def test_a_hub_going_offline_triggers(place):
    from hubs.ingest.presence import hubs_offline_sweep

    home, hub = place["home"], place["hub"]
    automation(home, trigger={"type": "hub", "hubId": str(hub.pk), "status": "offline"},
               actions=[{"type": "notify", "message": "The hub went offline"}])
    type(hub).objects.filter(pk=hub.pk).update(last_seen_at=at(2020, 1, 1))
    assert hubs_offline_sweep() == 1
    [run] = start_pending()
    assert run.status == "succeeded" and run.trigger["value"] == "offline"


def test_a_scene_activation_triggers(place, api):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    scene = f.make_scene(home, [lamp])
    automation(home, trigger={"type": "scene", "sceneId": str(scene.pk)}, actions=[turn_on(porch)])
    scene_run = services.scene_activate(scene=scene)
    [run] = start_pending()
    assert run.trigger["sceneRunId"] == str(scene_run.pk) and run.status == "succeeded"


def test_a_deleted_device_in_an_action_is_a_recorded_skip(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
               actions=[turn_on(porch), {"type": "notify", "message": "done"}])
    porch.delete()
    device_services.device_update(device=lamp, is_active=True)
    [run] = start_pending()
    assert run.status == "succeeded"
    assert run.trace["actions"][0]["devices"][0]["skipped"] == "device_deleted"


def test_disabling_stops_runs_under_way(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
                      actions=[{"type": "delay", "seconds": 60}, turn_on(porch)])
    device_services.device_update(device=lamp, is_active=True)
    [run] = start_pending()
    services.automation_update(automation=auto, enabled=False)
    run.refresh_from_db()
    assert run.status == "stopped"
    runtime.engine_tick(now=datetime.datetime.now(UTC) + datetime.timedelta(seconds=120))
    assert not Command.objects.filter(device=porch).exists()


# --- the API -----------------------------------------------------------------------------------


def url(home, *parts):
    return "/".join([f"/api/homes/{home.pk}/automations", *map(str, parts)])


def test_run_by_hand_lists_runs_and_shows_a_trace(api, place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
                      conditions=[{"type": "device_state", "deviceId": str(porch.pk), "equals": True}],
                      actions=[turn_on(porch)])

    refused = api.post(url(home, auto.pk, "run"), {}, format="json")
    forced = api.post(url(home, auto.pk, "run"), {"skipConditions": True}, format="json")

    assert refused.status_code == 200, refused.content
    assert refused.json()["status"] == "conditions_failed"
    assert forced.json()["status"] == "succeeded"
    assert forced.json()["trace"]["conditions"] == "skipped"
    [device] = forced.json()["trace"]["actions"][0]["devices"]
    assert device["status"] in ("pending", "sent") and device["commandId"]
    listed = api.get(url(home, auto.pk, "runs")).json()
    assert [r["id"] for r in listed["results"]] == [forced.json()["id"], refused.json()["id"]]
    detail = api.get(url(home, auto.pk, "runs", forced.json()["id"]))
    assert detail.status_code == 200 and detail.json()["trigger"]["kind"] == "manual"
    assert api.get(url(home, auto.pk, "runs", uuid.uuid4())).status_code == 404
    assert api.get(url(home, auto.pk, "runs", "nope")).status_code == 404


def test_guests_read_runs_but_cannot_run(place, as_role, outsider):
    home = place["home"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(place["lamp"].pk)},
                      actions=[turn_on(place["porch"])])
    guest = as_role("guest")
    assert guest.post(url(home, auto.pk, "run"), {}, format="json").status_code == 403
    assert guest.get(url(home, auto.pk, "runs")).status_code == 200
    assert outsider.post(url(home, auto.pk, "run"), {}, format="json").status_code == 404
    assert outsider.get(url(home, auto.pk, "runs")).status_code == 404
    assert not AutomationRun.objects.exists()


@pytest.mark.parametrize("document,field", [
    ({"trigger": {"type": "sun", "event": "sunset"}}, "trigger"),
    ({"trigger": {"type": "sun", "event": "noon"}}, "trigger.event"),
    ({"trigger": {"type": "device", "deviceId": "LAMP", "for": 60}}, "trigger.for"),
    ({"trigger": {"type": "device", "deviceId": "LAMP", "equals": True, "for": 90000}}, "trigger.for"),
    ({"trigger": {"type": "hub", "hubId": "HUB", "status": "asleep"}}, "trigger.status"),
    ({"actions": [{"type": "wait", "deviceId": "LAMP", "equals": True}]}, "actions.0.timeout"),
    ({"actions": [{"type": "delay", "seconds": 90000}]}, "actions.0.seconds"),
    ({"conditions": [{"type": "sun", "after": "sunset"}]}, "conditions.0"),
    ({"conditions": [{"type": "time_window", "after": "22:00", "before": "22:00"}]}, "conditions.0.before"),
    ({"conditions": [{"type": "and", "conditions": []}]}, "conditions.0.conditions"),
    ({"mode": "sometimes"}, "mode"),
    ({"maxRuns": 0}, "maxRuns"),
])
def test_bad_documents_are_400s_naming_the_field(api, place, document, field):
    home = place["home"]
    lamp, hub = str(place["lamp"].pk), str(place["hub"].pk)
    body = {"name": "Bad", "trigger": {"type": "device", "deviceId": lamp}, "actions": [turn_on(place["porch"])]}
    for key, value in document.items():
        text = str(value).replace("'LAMP'", repr(lamp)).replace("'HUB'", repr(hub))
        body[key] = eval(text) if isinstance(value, (dict, list)) else value  # noqa: S307 (the test's own literals)
    response = api.post(f"/api/homes/{home.pk}/automations", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not Automation.objects.filter(name="Bad").exists()


def test_conditions_nest_at_most_five_deep(api, place):
    nested = {"type": "day_of_week", "days": ["monday"]}
    for _ in range(6):
        nested = {"type": "and", "conditions": [nested]}
    response = api.post(f"/api/homes/{place['home'].pk}/automations", {
        "name": "Deep", "trigger": {"type": "device", "deviceId": str(place["lamp"].pk)},
        "conditions": [nested], "actions": [turn_on(place["porch"])]}, format="json")
    assert response.status_code == 400
    assert any("conditions" in key for key in response.json()["error"]["fields"])


def test_another_homes_devices_are_refused(api, place):
    other = f.make_home(name="Other")
    stranger = f.DeviceFactory(room=f.RoomFactory(home=other), hub=f.HubFactory(home=other))
    response = api.post(f"/api/homes/{place['home'].pk}/automations", {
        "name": "Reach", "trigger": {"type": "device", "deviceId": str(place["lamp"].pk)},
        "actions": [turn_on(stranger)]}, format="json")
    assert response.status_code == 400
    assert "actions.0.deviceId" in response.json()["error"]["fields"]


@pytest.mark.parametrize("local,night", [((23, 30), True), ((2, 0), True), ((12, 0), False), ((21, 0), False)])
def test_the_sun_condition_reads_the_homes_sunset_and_sunrise(home, place, local, night):
    # Berlin, 21 June 2026 by the published tables: sunrise 04:43, sunset 21:33 (CEST).
    home.timezone, home.latitude, home.longitude = "Europe/Berlin", 52.52, 13.405
    home.save(update_fields=["timezone", "latitude", "longitude"])
    automation(home, trigger={"type": "device", "deviceId": str(place["lamp"].pk), "equals": True},
               conditions=[{"type": "sun", "after": "sunset", "before": "sunrise"}], actions=[turn_on(place["porch"])])
    now = datetime.datetime(2026, 6, 21, *local, tzinfo=home.tz).astimezone(UTC)
    device_services.device_update(device=place["lamp"], is_active=True)
    [run] = start_pending(now=now)
    assert run.status == ("succeeded" if night else "conditions_failed")
    seen = run.trace["conditions"][0]["saw"]
    sunset = datetime.datetime.fromisoformat(seen["sunset"]).astimezone(home.tz)
    assert (sunset.hour, sunset.minute) in ((21, 32), (21, 33), (21, 34))


def test_a_sunset_trigger_in_new_york_in_winter(home, place):
    # New York, 21 December 2026: sunset 16:32 EST (21:32 UTC) by the published tables.
    home.timezone, home.latitude, home.longitude = "America/New_York", 40.7128, -74.006
    home.save(update_fields=["timezone", "latitude", "longitude"])
    auto = automation(home, trigger={"type": "sun", "event": "sunset", "days": ["monday"]},
                      actions=[turn_on(place["porch"])])
    runtime.index_refresh(auto, now=at(2026, 12, 15, 12, 0))
    next_at = AutomationTrigger.objects.get(automation=auto).next_at
    # The next Monday after 15 December (a Tuesday) is the 21st.
    assert abs((next_at - at(2026, 12, 21, 21, 32)).total_seconds()) < 120


def test_moving_the_home_moves_its_sun_triggers(api, home, place):
    home.latitude, home.longitude = 40.4168, -3.7038  # Madrid
    home.save(update_fields=["latitude", "longitude"])
    auto = automation(home, trigger={"type": "sun", "event": "sunrise"}, actions=[turn_on(place["porch"])])
    before = AutomationTrigger.objects.get(automation=auto).next_at
    response = api.patch(f"/api/homes/{home.pk}", {"latitude": 35.6762, "longitude": 139.6503}, format="json")
    assert response.status_code == 200, response.content
    after = AutomationTrigger.objects.get(automation=auto).next_at
    # Moved to Tokyo's coordinates (the zone left as it was): the sun rises hours apart.
    shift_minutes = ((after - before).total_seconds() % 86400) / 60
    assert 30 < shift_minutes < 24 * 60 - 30


def test_a_run_that_cannot_start_is_marked_failed_not_retried_forever(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
                      actions=[turn_on(porch)])
    device_services.device_update(device=lamp, is_active=True)
    # A document that no longer compiles (written around the service, as a broken migration might).
    Automation.objects.filter(pk=auto.pk).update(actions=[{"type": "teleport"}])
    [run] = AutomationRun.objects.all()
    runtime.run_pending([str(run.pk)])
    run.refresh_from_db()
    assert run.status == "failed" and "KeyError" in run.trace["note"]
    runtime.engine_tick(now=datetime.datetime.now(UTC) + datetime.timedelta(minutes=1))
    assert AutomationRun.objects.get(pk=run.pk).status == "failed"
