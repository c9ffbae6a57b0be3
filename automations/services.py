"""Every write to scenes, schedules and automations."""
import datetime

from django.db import transaction
from django.utils import timezone

from devices import fanout, state_changes
from devices.models import Command
from homes.models import Home
from realtime import publish
from veahome.services import home_limit_check, model_update, row_lock

from .engine import matching, runtime
from .models import Automation, Scene, SceneRun, Schedule, Source
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


def scene_run_event(run: SceneRun, scene: Scene) -> dict:
    """`scene:activated`: the run, each command with its status when the event leaves."""
    outcomes = fanout.with_status(run.outcomes, fanout.command_statuses([run.outcomes]))
    return {"sceneId": str(scene.pk), "name": scene.name, "runId": str(run.pk), "source": run.source,
            "isActive": scene.is_active, "outcomes": outcomes}


@transaction.atomic
def scene_activate(*, scene: Scene, actor=None, source: str = Source.USER, origin: str = "") -> SceneRun:
    """Send every device of the scene to its stored state through the control path.

    Devices that cannot take their part are skipped with a reason (devices.fanout);
    the others are sent all the same, when this transaction commits. The scene is active
    when every device was sent its state. `scene:activated` carries the run.
    """
    scene = Scene.objects.select_for_update().get(pk=scene.pk)
    targets = [fanout.Target(device_id, state) for device_id, state in (scene.device_states or {}).items()]
    outcomes = fanout.control_devices(home_id=scene.home_id, targets=targets, actor=actor, origin=origin)
    run = SceneRun.objects.create(home_id=scene.home_id, scene=scene, source=source, actor=actor, outcomes=outcomes)
    matching.on_scene_activated(scene=scene, run=run, origin=origin)
    active = bool(outcomes) and all(o["skipped"] is None for o in outcomes)
    if active != scene.is_active:
        model_update(instance=scene, data={"is_active": active})
    # After the commands have gone (their hooks come first), with their statuses then.
    transaction.on_commit(lambda: publish(scene.home_id, "scene:activated", scene_run_event(run, scene)))
    return run


def _holds(target: dict, state: dict) -> bool:
    """Whether a device's state is the scene's for it (on/off and value; other keys are not sent)."""
    for key, wanted in fanout.control_request(target).items():
        have = state.get(key)
        if key == "value":
            if have is None or abs(float(have) - float(wanted)) > 1e-6:
                return False
        elif have != wanted:
            return False
    return True


def scenes_check_states(changes: list[state_changes.StateChange], *, scenes: list) -> None:
    """A scene stops being active when one of its devices reports another state.

    A report that comes while the device's command from the scene's latest run is still on
    its way (pending or sent) is the state from before the scene, so it does not count.
    Runs inside the transaction that wrote the states; `scenes` are the active scenes of the
    changed homes, which the engine's observer reads in its one lookup per listener batch.
    """
    by_home: dict[str, dict[str, state_changes.StateChange]] = {}
    for change in changes:
        by_home.setdefault(str(change.home_id), {})[str(change.device_id)] = change
    suspects: list[tuple[Scene, str]] = []
    for scene in scenes:
        home_changes = by_home[str(scene.home_id)]
        for device_id, target in (scene.device_states or {}).items():
            change = home_changes.get(device_id)
            if change is not None and not _holds(target, change.state):
                suspects.append((scene, device_id))
                break
    if not suspects:
        return
    deviated = []
    for scene, device_id in suspects:
        latest = SceneRun.objects.filter(scene_id=scene.pk).only("outcomes").first()
        command_id = next((o["commandId"] for o in (latest.outcomes if latest else []) if o["deviceId"] == device_id), None)
        if command_id and Command.objects.filter(pk=command_id, status__in=Command.OPEN).exists():
            continue
        deviated.append((scene, device_id))
    if not deviated:
        return
    Scene.objects.filter(pk__in=[scene.pk for scene, _ in deviated]).update(is_active=False, updated_at=timezone.now())
    for scene, device_id in deviated:
        publish(scene.home_id, "scene:update", _event("scene", scene) | {"isActive": False, "deviceId": device_id})


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
    touches the run bookkeeping the schedule tick keeps. The row lock makes a tick firing
    this schedule finish first, so the next run it wrote is recomputed, not overwritten."""
    row_lock(schedule)
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
def home_clock_changed(*, home: Home) -> None:
    """The home's zone or location changed (homes.services.home_update)."""
    schedules_reschedule_home(home=home)
    matching.index_refresh_home(home)


@transaction.atomic
def automation_create(*, home: Home, **fields) -> Automation:
    home_limit_check(home=home, model=Automation, what="automations")
    automation = Automation.objects.create(home=home, **fields)
    matching.index_refresh(automation)
    publish(home.pk, "automation:created", _event("automation", automation))
    return automation


@transaction.atomic
def automation_update(*, automation: Automation, **fields) -> Automation:
    """`automation:update` follows a change; an update that changes nothing publishes nothing.

    The trigger index follows the trigger and `enabled`; disabling stops the runs under way;
    enabling again clears the loop guard's reason."""
    automation = Automation.objects.select_for_update().select_related("home").get(pk=automation.pk)
    if fields.get("enabled") and not automation.enabled:
        fields = {**fields, "disabled_reason": ""}
    changed = model_update(instance=automation, data=fields)
    if not changed:
        return automation
    if {"trigger", "enabled"} & set(changed):
        matching.index_refresh(automation)
    if "enabled" in changed and not automation.enabled:
        runtime.stop_runs(automation, note="the automation was disabled")
    publish(automation.home_id, "automation:update", _event("automation", automation))
    return automation


@transaction.atomic
def automation_delete(*, automation: Automation) -> None:
    home_id, data = automation.home_id, _event("automation", automation)
    automation.delete()
    publish(home_id, "automation:deleted", data)
