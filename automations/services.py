"""Every write to scenes, schedules and automations."""
import datetime

from django.db import transaction
from django.utils import timezone

from homes.models import Home
from realtime import publish

from .models import Automation, Scene, Schedule
from .timing import next_run_at


def _event(kind: str, obj) -> dict:
    return {f"{kind}Id": str(obj.pk), "name": obj.name}


@transaction.atomic
def scene_create(*, home: Home, **fields) -> Scene:
    scene = Scene.objects.create(home=home, **fields)
    publish(home.pk, "scene:created", _event("scene", scene))
    return scene


@transaction.atomic
def scene_update(*, scene: Scene, **fields) -> Scene:
    for key, value in fields.items():
        setattr(scene, key, value)
    scene.save()
    publish(scene.home_id, "scene:update", _event("scene", scene))
    return scene


@transaction.atomic
def scene_delete(*, scene: Scene) -> None:
    home_id, data = scene.home_id, _event("scene", scene)
    scene.delete()
    publish(home_id, "scene:deleted", data)


def _schedule_next(schedule: Schedule) -> None:
    schedule.next_run_at = (
        next_run_at(at=schedule.time, days=schedule.days, tz=schedule.home.timezone, after=timezone.now())
        if schedule.enabled
        else None
    )


@transaction.atomic
def schedule_create(*, home: Home, **fields) -> Schedule:
    schedule = Schedule(home=home, **fields)
    _schedule_next(schedule)
    schedule.save()
    publish(home.pk, "schedule:created", _event("schedule", schedule))
    return schedule


@transaction.atomic
def schedule_update(*, schedule: Schedule, **fields) -> Schedule:
    for key, value in fields.items():
        setattr(schedule, key, value)
    _schedule_next(schedule)
    schedule.save()
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
    automation = Automation.objects.create(home=home, **fields)
    publish(home.pk, "automation:created", _event("automation", automation))
    return automation


@transaction.atomic
def automation_update(*, automation: Automation, **fields) -> Automation:
    for key, value in fields.items():
        setattr(automation, key, value)
    automation.save()
    publish(automation.home_id, "automation:update", _event("automation", automation))
    return automation


@transaction.atomic
def automation_delete(*, automation: Automation) -> None:
    home_id, data = automation.home_id, _event("automation", automation)
    automation.delete()
    publish(home_id, "automation:deleted", data)
