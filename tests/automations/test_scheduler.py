"""The schedule tick, driven by an injected clock: once per due time, in the home's zone, across
DST changes, late within the grace window and missed beyond it, and recorded per action."""
import datetime
import threading
import uuid

import pytest
from django.db import connection

from automations import services
from automations.models import Schedule, ScheduleRun
from automations.scheduler import schedules_tick
from devices.models import Command
from tests import factories as f
from tests.events import capture_events

pytestmark = pytest.mark.django_db(transaction=True)
UTC = datetime.UTC
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture
def lamp(home):
    hub = f.HubFactory(home=home)
    return f.DeviceFactory(room=f.RoomFactory(home=home), hub=hub, name="Lamp", type="light", category="Zigbee")


def schedule_for(home, lamp, *, time, days=EVERY_DAY, after, **fields):
    """A schedule turning the lamp on, with its next run computed as if created at `after`."""
    schedule = services.schedule_create(home=home, name="Lamp on", time=datetime.time(*time), days=days,
                                        actions=[{"type": "device", "deviceId": str(lamp.pk),
                                                  "state": {"isActive": True}}], **fields)
    services.schedules_reschedule_home(home=home, now=after)
    schedule.refresh_from_db()
    return schedule


def runs(schedule):
    return list(ScheduleRun.objects.filter(schedule=schedule).order_by("due_at"))


def test_a_due_schedule_fires_once_and_moves_to_its_next_day(home, lamp):
    # Casa is in Madrid (UTC+1 in January): 07:30 local is 06:30 UTC.
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    assert schedule.next_run_at == at(2026, 1, 5, 6, 30)

    assert schedules_tick(now=at(2026, 1, 5, 6, 29, 59)) == {}
    assert schedules_tick(now=at(2026, 1, 5, 6, 30, 1)) == {"on_time": 1}
    assert schedules_tick(now=at(2026, 1, 5, 6, 30, 2)) == {}

    [run] = runs(schedule)
    assert (run.due_at, run.fired_at, run.status) == (at(2026, 1, 5, 6, 30), at(2026, 1, 5, 6, 30, 1), "on_time")
    [action] = run.outcomes
    assert action["type"] == "device" and action["skipped"] is None
    command = Command.objects.get(pk=action["devices"][0]["commandId"])
    assert command.device_id == lamp.pk and command.desired_state == {"isActive": True}
    schedule.refresh_from_db()
    assert schedule.next_run_at == at(2026, 1, 6, 6, 30)
    assert schedule.last_run_at == at(2026, 1, 5, 6, 30, 1)


def test_the_run_is_published_after_its_commands(home, lamp):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    with capture_events(home.pk) as events:
        schedules_tick(now=at(2026, 1, 5, 6, 30, 1))
    [run] = runs(schedule)
    assert [name for name, _ in events] == ["command:status", "command:status", "schedule:run"]
    assert events[-1][1] == {"scheduleId": str(schedule.pk), "name": "Lamp on", "runId": str(run.pk),
                             "dueAt": "2026-01-05T06:30:00+00:00", "status": "on_time"}


@pytest.mark.parametrize("zone,day,wall,fires_at", [
    # 02:00 -> 03:00: 02:30 never shows; it fires at the jump, 03:00 local.
    ("Europe/Berlin", (2026, 3, 29), (2, 30), at(2026, 3, 29, 1, 0)),
    ("America/New_York", (2026, 3, 8), (2, 30), at(2026, 3, 8, 7, 0)),
    # A time just after the jump is itself: 03:15 CEST.
    ("Europe/Berlin", (2026, 3, 29), (3, 15), at(2026, 3, 29, 1, 15)),
])
def test_a_time_skipped_by_spring_forward_fires_once_at_the_first_instant_after_it(home, lamp, zone, day, wall, fires_at):
    home.timezone = zone
    home.save(update_fields=["timezone"])
    schedule = schedule_for(home, lamp, time=wall, after=datetime.datetime(*day, tzinfo=UTC) - datetime.timedelta(hours=12))
    assert schedule.next_run_at == fires_at

    counts = [schedules_tick(now=fires_at + datetime.timedelta(minutes=m, seconds=1)) for m in range(0, 120, 10)]

    assert counts == [{"on_time": 1}] + [{}] * 11
    assert [r.due_at for r in runs(schedule)] == [fires_at]
    schedule.refresh_from_db()
    local = schedule.next_run_at.astimezone(home.tz)
    assert (local.date(), local.hour, local.minute) == (
        datetime.date(*day) + datetime.timedelta(days=1), *wall)


@pytest.mark.parametrize("zone,day,wall,first,second", [
    # 03:00 -> 02:00: 02:30 shows twice; only the first (summer time) fires.
    ("Europe/Berlin", (2026, 10, 25), (2, 30), at(2026, 10, 25, 0, 30), at(2026, 10, 25, 1, 30)),
    ("America/New_York", (2026, 11, 1), (1, 30), at(2026, 11, 1, 5, 30), at(2026, 11, 1, 6, 30)),
])
def test_a_time_repeated_by_fall_back_fires_once_at_its_first_occurrence(home, lamp, zone, day, wall, first, second):
    home.timezone = zone
    home.save(update_fields=["timezone"])
    schedule = schedule_for(home, lamp, time=wall, after=datetime.datetime(*day, tzinfo=UTC) - datetime.timedelta(hours=12))
    assert schedule.next_run_at == first

    assert schedules_tick(now=first + datetime.timedelta(seconds=1)) == {"on_time": 1}
    assert schedules_tick(now=second + datetime.timedelta(seconds=1)) == {}

    assert [r.due_at for r in runs(schedule)] == [first]
    schedule.refresh_from_db()
    local = schedule.next_run_at.astimezone(home.tz)
    assert (local.date(), local.hour, local.minute) == (datetime.date(*day) + datetime.timedelta(days=1), *wall)


def test_a_run_missed_within_the_grace_window_fires_late(home, lamp):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    assert schedules_tick(now=at(2026, 1, 5, 6, 34)) == {"late": 1}
    [run] = runs(schedule)
    assert run.fired_at == at(2026, 1, 5, 6, 34)
    assert Command.objects.filter(device=lamp).count() == 1


def test_a_run_missed_beyond_the_grace_window_is_recorded_and_not_fired(home, lamp):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    # The server was down from 06:00 until 04:00 the next morning.
    assert schedules_tick(now=at(2026, 1, 6, 3, 0)) == {"missed": 1}
    [run] = runs(schedule)
    assert (run.due_at, run.fired_at, run.status, run.outcomes) == (at(2026, 1, 5, 6, 30), None, "missed", [])
    assert not Command.objects.exists()
    schedule.refresh_from_db()
    # It moves on to the next due time after now, and that one fires normally.
    assert schedule.next_run_at == at(2026, 1, 6, 6, 30)
    assert schedule.last_run_at is None
    assert schedules_tick(now=at(2026, 1, 6, 6, 30, 1)) == {"on_time": 1}


def test_the_grace_window_is_per_schedule(home, lamp):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0), grace_seconds=3600)
    assert schedules_tick(now=at(2026, 1, 5, 7, 20)) == {"late": 1}
    assert runs(schedule)[0].status == "late"


def test_deleted_targets_are_recorded_skips_and_the_others_still_fire(home, lamp):
    scene = f.make_scene(home, [lamp])
    group = f.make_group(home, [lamp])
    doomed = f.DeviceFactory(room=lamp.room, hub=lamp.hub, name="Doomed", type="light", category="Zigbee")
    schedule = services.schedule_create(home=home, name="Mixed", time=datetime.time(7, 30), days=EVERY_DAY, actions=[
        {"type": "scene", "sceneId": str(scene.pk)},
        {"type": "group", "groupId": str(group.pk), "state": {"isActive": False}},
        {"type": "device", "deviceId": str(doomed.pk), "state": {"isActive": True}},
        {"type": "device", "deviceId": str(lamp.pk), "state": {"value": 30}}])
    services.schedules_reschedule_home(home=home, now=at(2026, 1, 5, 0, 0))
    scene.delete()
    group.delete()
    doomed.delete()

    assert schedules_tick(now=at(2026, 1, 5, 6, 30, 1)) == {"on_time": 1}

    [run] = runs(schedule)
    assert [(o["type"], o["skipped"]) for o in run.outcomes] == [
        ("scene", "scene_deleted"), ("group", "group_deleted"), ("device", None), ("device", None)]
    assert run.outcomes[2]["devices"][0]["skipped"] == "device_deleted"
    assert run.outcomes[3]["devices"][0]["commandId"] is not None


def test_changing_the_schedule_or_the_zone_reschedules_it(home, lamp, api):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    response = api.patch(f"/api/homes/{home.pk}/schedules/{schedule.pk}", {"time": "08:15"}, format="json")
    assert response.status_code == 200, response.content
    local = Schedule.objects.get(pk=schedule.pk).next_run_at.astimezone(home.tz)
    assert (local.hour, local.minute) == (8, 15)
    api.patch(f"/api/homes/{home.pk}", {"timezone": "Asia/Tokyo"}, format="json")
    tokyo = Schedule.objects.get(pk=schedule.pk).next_run_at.astimezone(datetime.timezone(datetime.timedelta(hours=9)))
    assert (tokyo.hour, tokyo.minute) == (8, 15)


def test_concurrent_ticks_fire_each_due_schedule_once(home, lamp):
    due = at(2026, 1, 5, 6, 30)
    schedules = [schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0)) for _ in range(40)]
    Schedule.objects.filter(pk__in=[s.pk for s in schedules]).update(next_run_at=due)
    results, barrier = [], threading.Barrier(4)

    def tick():
        barrier.wait()
        try:
            results.append(schedules_tick(now=due + datetime.timedelta(seconds=1), batch=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r.get("on_time", 0) for r in results) == 40
    assert ScheduleRun.objects.count() == 40
    assert Command.objects.count() == 40
    assert all(r.status == "on_time" for r in ScheduleRun.objects.all())


def test_runs_endpoint_shows_each_action_with_its_commands_status(home, lamp, api):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    schedules_tick(now=at(2026, 1, 5, 6, 30, 1))
    schedules_tick(now=at(2026, 1, 7, 6, 0))  # the 6th was missed
    command = Command.objects.get()
    Command.objects.filter(pk=command.pk).update(status="confirmed")

    response = api.get(f"/api/homes/{home.pk}/schedules/{schedule.pk}/runs")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["dueAt"], r["status"]) for r in body["results"]] == [
        ("2026-01-06T06:30:00Z", "missed"), ("2026-01-05T06:30:00Z", "on_time")]
    fired = body["results"][1]
    assert fired["firedAt"] == "2026-01-05T06:30:01Z"
    assert fired["outcomes"] == [{"type": "device", "deviceId": str(lamp.pk), "skipped": None, "devices": [{
        "deviceId": str(lamp.pk), "commandId": str(command.pk), "status": "confirmed", "skipped": None,
        "message": ""}]}]
    assert body["results"][0]["outcomes"] == []


def test_an_outsider_sees_no_runs(home, lamp, outsider):
    schedule = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    assert outsider.get(f"/api/homes/{home.pk}/schedules/{schedule.pk}/runs").status_code == 404
    assert outsider.get(f"/api/homes/{home.pk}/schedules/{uuid.uuid4()}/runs").status_code == 404


def test_one_batch_fires_the_schedules_of_many_homes_together(home, lamp):
    # Two homes, each a device and a group action; the other home's group named in this
    # home's schedule is not this home's, so it is a skip there.
    other = f.make_home(home.owner, name="Other", timezone="Asia/Tokyo")
    other_lamp = f.DeviceFactory(room=f.RoomFactory(home=other), hub=f.HubFactory(home=other), type="light",
                                 category="Zigbee")
    other_group = f.make_group(other, [other_lamp])
    group = f.make_group(home, [lamp])
    mine = services.schedule_create(home=home, name="Mine", time=datetime.time(7, 30), days=EVERY_DAY, actions=[
        {"type": "group", "groupId": str(group.pk), "state": {"isActive": False}},
        {"type": "device", "deviceId": str(lamp.pk), "state": {"value": 40}}])
    theirs = services.schedule_create(home=other, name="Theirs", time=datetime.time(15, 30), days=EVERY_DAY,
                                      actions=[{"type": "group", "groupId": str(other_group.pk),
                                                "state": {"isActive": True}}])
    Schedule.objects.filter(pk__in=[mine.pk, theirs.pk]).update(next_run_at=at(2026, 1, 5, 6, 30))
    Schedule.objects.filter(pk=mine.pk).update(actions=[
        *Schedule.objects.get(pk=mine.pk).actions, {"type": "group", "groupId": str(other_group.pk),
                                                    "state": {"isActive": True}}])

    assert schedules_tick(now=at(2026, 1, 5, 6, 30, 1)) == {"on_time": 2}

    [my_run], [their_run] = runs(mine), runs(theirs)
    assert [(o["type"], o["skipped"], len(o["devices"])) for o in my_run.outcomes] == [
        ("group", None, 1), ("device", None, 1), ("group", "group_deleted", 0)]
    assert [(o["type"], o["skipped"], len(o["devices"])) for o in their_run.outcomes] == [("group", None, 1)]
    sent = {o["devices"][0]["commandId"]: o["devices"][0]["deviceId"]
            for run in (my_run, their_run) for o in run.outcomes if o["devices"]}
    commands = {str(c.pk): (str(c.device_id), c.desired_state) for c in Command.objects.filter(pk__in=sent)}
    assert sorted(commands.values(), key=str) == sorted([
        (str(lamp.pk), {"isActive": False}), (str(lamp.pk), {"value": 40}),
        (str(other_lamp.pk), {"isActive": True})], key=str)
    assert all(commands[pk][0] == device for pk, device in sent.items())
    for schedule, local in ((mine, (7, 30)), (theirs, (15, 30))):
        schedule.refresh_from_db()
        assert schedule.next_run_at > at(2026, 1, 5, 6, 30) and schedule.last_run_at == at(2026, 1, 5, 6, 30, 1)
        shown = schedule.next_run_at.astimezone(schedule.home.tz)
        assert (shown.hour, shown.minute) == local


def test_a_broken_schedule_is_a_failed_run_and_the_rest_of_its_batch_fires(home, lamp):
    good = [schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0)) for _ in range(3)]
    broken = schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0))
    # A document no validator would let through today (stored before a type was retired).
    Schedule.objects.filter(pk=broken.pk).update(actions=[{"type": "teleport", "to": "mars"}])

    assert schedules_tick(now=at(2026, 1, 5, 6, 30, 1)) == {"on_time": 3, "failed": 1}

    assert [r.status for r in runs(broken)] == ["failed"]
    assert all([r.status for r in runs(s)] == ["on_time"] for s in good)
    assert Command.objects.count() == 3
    broken.refresh_from_db()
    assert broken.next_run_at == at(2026, 1, 6, 6, 30)


def test_a_full_first_batch_calls_for_help_once(home, lamp):
    due = at(2026, 1, 5, 6, 30)
    schedules = [schedule_for(home, lamp, time=(7, 30), after=at(2026, 1, 5, 0, 0)) for _ in range(7)]
    Schedule.objects.filter(pk__in=[s.pk for s in schedules]).update(next_run_at=due)
    calls = []
    assert schedules_tick(now=due, batch=3, call_for_help=lambda: calls.append(1)) == {"on_time": 7}
    assert calls == [1]
    # Nothing left: a tick whose first batch is not full asks no one.
    assert schedules_tick(now=due, batch=3, call_for_help=lambda: calls.append(2)) == {}
    assert calls == [1]
