"""Matching: which state changes, readings, hub changes, scene activations and clock times
start runs, through the trigger index, and only once per trigger event."""
import datetime

import pytest
from django.db import transaction

from automations import services
from automations.engine import matching, runtime
from automations.models import AutomationRun, AutomationTimer, AutomationTrigger
from devices import services as device_services
from devices.models import Command
from devices.state_changes import Reading
from tests import factories as f
from tests.events import capture_events

from .engine_support import UTC, at, automation, change, start_pending, turn_on

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_numeric_triggers_fire_on_crossing_only(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "attribute": "value", "above": 50},
               actions=[turn_on(porch)])
    for before, after in [(10, 40), (40, 60), (60, 80), (80, 30), (30, 90)]:
        matching.on_state_changes([change(lamp, before={"value": before}, after={"value": after},
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
        matching.on_state_changes([change(lamp, before={"isActive": False}, after={"isActive": True})])
    # ...and once compiled, no document is read again.
    with transaction.atomic(), django_assert_num_queries(2):
        matching.on_state_changes([change(lamp, before={"isActive": False}, after={"isActive": True},
                                         ts=datetime.datetime.now(UTC) + datetime.timedelta(seconds=1))])
    assert list(AutomationRun.objects.values_list("automation_id", flat=True)) == [listening.pk, listening.pk]
    assert AutomationTrigger.objects.filter(automation__enabled=False).count() == 0


def test_the_same_trigger_event_starts_one_run(place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True}, actions=[turn_on(porch)])
    event = change(lamp, before={"isActive": False}, after={"isActive": True}, ts=at(2026, 1, 1, 12))
    matching.on_state_changes([event])
    matching.on_state_changes([event])  # a redelivered report
    [run] = start_pending()
    assert runtime.start(run.pk).status == "succeeded"  # a redelivered task: nothing more
    assert Command.objects.filter(device=porch).count() == 1


def test_a_for_trigger_fires_after_holding_and_is_cancelled_by_a_change_back(place):
    home, motion, lamp = place["home"], place["motion"], place["lamp"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(motion.pk), "attribute": "isActive",
                                     "equals": False, "for": 600}, actions=[{**turn_on(lamp), "state": {"isActive": False}}])
    t0 = datetime.datetime.now(UTC)
    matching.on_state_changes([change(motion, before={"isActive": True}, after={"isActive": False}, ts=t0)])
    timer = AutomationTimer.objects.get(automation=auto)
    assert abs((timer.due_at - t0).total_seconds() - 600) < 5
    # Motion again before ten minutes: cancelled.
    matching.on_state_changes([change(motion, before={"isActive": False}, after={"isActive": True})])
    assert not AutomationTimer.objects.exists()
    runtime.engine_tick(now=t0 + datetime.timedelta(seconds=700))
    assert not AutomationRun.objects.exists()

    # No motion for ten minutes: it fires once.
    t1 = datetime.datetime.now(UTC)
    matching.on_state_changes([change(motion, before={"isActive": True}, after={"isActive": False}, ts=t1)])
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
        matching.on_readings([Reading(home_id=home.pk, device_id=motion.pk, fields={"temperature": value},
                                     ts=t + datetime.timedelta(seconds=n))])
    assert [r.trigger["value"] for r in start_pending()] == [29, 31]


def test_a_time_trigger_fires_once_at_its_local_time(place):
    home, porch = place["home"], place["porch"]
    auto = automation(home, trigger={"type": "time", "at": "07:30"}, actions=[turn_on(porch)])
    matching.index_refresh(auto, now=at(2026, 1, 5, 0, 0))
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
    matching.index_refresh(auto, now=at(2026, 6, 20, 12, 0))
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


def test_a_sunset_trigger_in_new_york_in_winter(home, place):
    # New York, 21 December 2026: sunset 16:32 EST (21:32 UTC) by the published tables.
    home.timezone, home.latitude, home.longitude = "America/New_York", 40.7128, -74.006
    home.save(update_fields=["timezone", "latitude", "longitude"])
    auto = automation(home, trigger={"type": "sun", "event": "sunset", "days": ["monday"]},
                      actions=[turn_on(place["porch"])])
    matching.index_refresh(auto, now=at(2026, 12, 15, 12, 0))
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


def test_a_hand_off_spreads_its_runs_over_tasks_and_keeps_each_automations_runs_together(monkeypatch):
    from automations import tasks

    sent = []
    monkeypatch.setattr(tasks.run_pending, "delay", lambda ids: sent.append(ids))
    # 12 automations, the first three with three runs each (in this order), the rest with one.
    runs = [(f"r{a}-{n}", f"a{a}") for a in range(12) for n in range(3 if a < 3 else 1)]
    with transaction.atomic():
        matching.hand_off("run_pending", [r for r, _ in runs], [a for _, a in runs])
        assert sent == []  # only once it commits

    assert len(sent) == matching.HAND_OFF_TASKS
    assert sorted(r for ids in sent for r in ids) == sorted(r for r, _ in runs)
    for a in range(3):
        [holder] = [ids for ids in sent if f"r{a}-0" in ids]
        assert [r for r in holder if r.startswith(f"r{a}-")] == [f"r{a}-0", f"r{a}-1", f"r{a}-2"]
