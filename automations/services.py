"""Every write to scenes, schedules and automations."""
import datetime

from django.db import transaction
from django.utils import timezone

from homes.models import Home
from realtime import publish
from veahome.services import home_limit_check, model_update

from .models import Automation, Scene, Schedule
from .timing import next_run_at


def _event(kind: str, obj) -> dict:
    return {f"{kind}Id": str(obj.pk), "name": obj.name}


@transaction.atomic
def scene_create(*, home: Home, **fields) -> Scene:
    home_limit_check(home=home, model=Scene, what="scenes")
    scene = Scene.objects.create(home=home, **fields)
    publish(home.pk, "scene:created", _event("scene", scene))
    return scene


@transaction.atomic
def scene_update(*, scene: Scene, **fields) -> Scene:
    """`scene:update` follows a change; an update that changes nothing publishes nothing."""
    if model_update(instance=scene, data=fields):
        publish(scene.home_id, "scene:update", _event("scene", scene))
    return scene


@transaction.atomic
def scene_delete(*, scene: Scene) -> None:
    home_id, data = scene.home_id, _event("scene", scene)
    scene.delete()
    publish(home_id, "scene:deleted", data)


def _schedule_next(schedule: Schedule, **when) -> datetime.datetime | None:
    """The next run of `schedule`, or of it with `when`'s time, days or enabled instead."""
    when = {"time": schedule.time, "days": schedule.days, "enabled": schedule.enabled} | when
    if not when["enabled"]:
        return None
    return next_run_at(at=when["time"], days=when["days"], tz=schedule.home.timezone, after=timezone.now())


WHEN_FIELDS = ("time", "days", "enabled")


@transaction.atomic
def schedule_create(*, home: Home, **fields) -> Schedule:
    home_limit_check(home=home, model=Schedule, what="schedules")
    schedule = Schedule(home=home, **fields)
    schedule.next_run_at = _schedule_next(schedule)
    schedule.save()
    publish(home.pk, "schedule:created", _event("schedule", schedule))
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, **fields) -> Schedule:
    """`schedule:update` follows a change; an update that changes nothing publishes nothing.
    The next run moves only when the time, the days or `enabled` changed, so a rename never
    touches the run bookkeeping the schedule tick keeps."""
    when = {k: v for k, v in fields.items() if k in WHEN_FIELDS and getattr(schedule, k) != v}
    data = (fields | {"next_run_at": _schedule_next(schedule, **when)}) if when else fields
    if model_update(instance=schedule, data=data):
        publish(schedule.home_id, "schedule:update", _event("schedule", schedule))
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule) -> None:
    home_id, data = schedule.home_id, _event("schedule", schedule)
    schedule.delete()
    publish(home_id, "schedule:deleted", data)


@transaction.atomic
def schedules_reschedule_home(*, home: Home, now: datetime.datetime | None = None) -> int:
    """Recompute next_run_at after the home's time zone changed."""
    now = now or timezone.now()
    count = 0
    for schedule in Schedule.objects.in_home(home).filter(enabled=True).select_for_update():
        schedule.next_run_at = next_run_at(at=schedule.time, days=schedule.days, tz=home.timezone, after=now)
        schedule.save(update_fields=["next_run_at", "updated_at"])
        count += 1
    return count


@transaction.atomic
def automation_create(*, home: Home, **fields) -> Automation:
    home_limit_check(home=home, model=Automation, what="automations")
    automation = Automation.objects.create(home=home, **fields)
    publish(home.pk, "automation:created", _event("automation", automation))
    return automation


@transaction.atomic
def automation_update(*, automation: Automation, **fields) -> Automation:
    """`automation:update` follows a change; an update that changes nothing publishes nothing."""
    if model_update(instance=automation, data=fields):
        publish(automation.home_id, "automation:update", _event("automation", automation))
    return automation


@transaction.atomic
def automation_delete(*, automation: Automation) -> None:
    home_id, data = automation.home_id, _event("automation", automation)
    automation.delete()
    publish(home_id, "automation:deleted", data)
