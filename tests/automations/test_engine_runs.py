"""Runs: conditions with their trace, actions through the control path, durable delays and waits,
every mode, the loop guard, and runs that cannot go on. The clock is injected where time matters;
tests/automations/test_engine_worker.py runs a real worker."""
import datetime

import pytest

from automations import services
from automations.engine import matching, runtime
from automations.models import Automation, AutomationRun, AutomationTrigger
from devices import services as device_services
from devices.models import Command
from tests.events import capture_events

from .engine_support import UTC, automation, change, start_pending, turn_on

pytestmark = pytest.mark.django_db(transaction=True)


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
        matching.on_state_changes([change(lamp, before={"isActive": not value}, after={"isActive": value},
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
        matching.on_state_changes([change(lamp, before={"isActive": n % 2 == 1}, after={"isActive": n % 2 == 0},
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
            matching.on_state_changes([change(lamp, before={"isActive": n % 2 == 1}, after={"isActive": n % 2 == 0},
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
