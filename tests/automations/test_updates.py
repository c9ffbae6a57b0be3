"""Scene, schedule and automation updates: the exact event each publishes, the columns it
writes, and nothing at all when nothing changes."""
import datetime
import zoneinfo

import pytest

from automations.models import Schedule
from automations.services import automation_update, scene_update, schedule_update
from tests.events import capture_events, capture_writes, columns_set

pytestmark = pytest.mark.django_db


def test_scene_update_publishes_its_name_once(world):
    scene, lamp = world["scene"], world["lamp"]
    states = {str(lamp.pk): {"isActive": False}}
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        scene_update(scene=scene, name="Night", device_states=states)
    assert [columns_set(w) for w in writes] == [{"name", "device_states", "updated_at"}]
    assert events == [("scene:update", {"sceneId": str(scene.pk), "name": "Night"})]


def test_scene_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    scene = world["scene"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        with django_assert_num_queries(2):  # savepoint, release
            scene_update(scene=scene, name="Scene", device_states=dict(scene.device_states))
    assert writes == [] and events == []


def test_renaming_a_schedule_leaves_its_next_run_alone(world):
    schedule = world["schedule"]
    Schedule.objects.filter(pk=schedule.pk).update(last_run_at=datetime.datetime(2026, 1, 5, 6, 0, tzinfo=datetime.UTC))
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        schedule_update(schedule=schedule, name="Wake up")
    assert [columns_set(w) for w in writes] == [{"name", "updated_at"}]
    assert events == [("schedule:update", {"scheduleId": str(schedule.pk), "name": "Wake up"})]
    assert Schedule.objects.get(pk=schedule.pk).last_run_at == datetime.datetime(2026, 1, 5, 6, 0, tzinfo=datetime.UTC)


def test_moving_or_disabling_a_schedule_moves_its_next_run(world):
    schedule = world["schedule"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        schedule_update(schedule=schedule, time=datetime.time(8, 30))
    assert [columns_set(w) for w in writes] == [{"time", "next_run_at", "updated_at"}]
    next_run = Schedule.objects.get(pk=schedule.pk).next_run_at
    assert next_run.astimezone(zoneinfo.ZoneInfo("Europe/Madrid")).time() == datetime.time(8, 30)
    with capture_writes() as writes:
        schedule_update(schedule=schedule, enabled=False)
    assert [columns_set(w) for w in writes] == [{"enabled", "next_run_at", "updated_at"}]
    assert Schedule.objects.get(pk=schedule.pk).next_run_at is None
    assert [name for name, _ in events] == ["schedule:update"]


def test_schedule_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    schedule = Schedule.objects.get(pk=world["schedule"].pk)
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        # The savepoint, the row lock (a tick firing it finishes first) and the release.
        with django_assert_num_queries(3):
            schedule_update(schedule=schedule, time=datetime.time(7, 0), days=["monday"], enabled=True)
    assert writes == [] and events == []


def test_automation_update_publishes_its_name_once(world):
    automation = world["automation"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        automation_update(automation=automation, enabled=False)
    updates = [w for w in writes if w.startswith("UPDATE")]
    assert [columns_set(w) for w in updates] == [{"enabled", "updated_at"}]
    # Disabled, it leaves the trigger index (and drops a `for` timer it may have had).
    assert [w.split(" WHERE")[0] for w in writes if not w.startswith("UPDATE")] == [
        'DELETE FROM "automations_automationtimer"', 'DELETE FROM "automations_automationtrigger"']
    assert events == [("automation:update", {"automationId": str(automation.pk), "name": "Automation"})]


def test_automation_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    automation = world["automation"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        # The savepoint, the row lock (the engine's runs of it finish first) and the release.
        with django_assert_num_queries(3):
            automation_update(automation=automation, name="Automation", trigger=dict(automation.trigger))
    assert writes == [] and events == []
