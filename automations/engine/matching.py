"""Matching: what automations listen to, and the events that become their runs.

The trigger index (`AutomationTrigger`: one row per enabled automation, its trigger kind and
the device, hub or scene id it listens to, kept by the automations service on every save)
is what a device's state change, a telemetry reading, a hub's status change or a scene's
activation is looked up in, inside the transaction that wrote it, one round trip per
listener batch: never the automations themselves. A compiled trigger turns a match into a
trigger event, stored as a *pending* run unique on (automation, trigger event) and handed to
a worker once the transaction commits (automations.engine.runtime starts it). A `for`
trigger that matches starts a durable timer instead; a change that no longer holds cancels
it. Runs waiting for a device's state are woken here too.
"""
import datetime
import json
import logging
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from ..models import Automation, AutomationRun, AutomationTimer, AutomationTrigger, Scene
from . import compiled as compiled_mod
from .compiled import comparison, trigger_of

logger = logging.getLogger(__name__)

Status = AutomationRun.Status


# --- the trigger index ------------------------------------------------------------------------


def index_refresh(automation: Automation, *, now: datetime.datetime | None = None) -> None:
    """File the automation's trigger in the index (or take it out when disabled). Its `for`
    timer goes with any change: it belonged to the trigger as it was."""
    AutomationTimer.objects.filter(automation=automation).delete()
    if not automation.enabled:
        AutomationTrigger.objects.filter(automation=automation).delete()
        return
    spec = compiled_mod.compile_trigger(automation.trigger)
    next_at = spec.next_at(now or timezone.now(), automation.home) if spec.next_at else None
    AutomationTrigger.objects.update_or_create(automation=automation, defaults={
        "home_id": automation.home_id, "kind": spec.kind, "key": spec.key, "next_at": next_at, "last_value": None,
        "version": automation.updated_at})


def index_refresh_home(home, *, now: datetime.datetime | None = None) -> None:
    """The home's zone or location changed: time and sun triggers move with it."""
    now = now or timezone.now()
    rows = AutomationTrigger.objects.filter(home=home, kind__in=("time", "sun")).select_related("automation")
    for row in rows.select_for_update(of=("self",)):
        spec = compiled_mod.compile_trigger(row.automation.trigger)
        row.next_at = spec.next_at(now, home)
        row.save(update_fields=["next_at"])


TRIGGER_COLUMNS = "automation_id, home_id, version::text, key, last_value"


def _listening(kind: str, keys) -> list[tuple]:
    """(automation id, home id, compiled trigger, key, last value) of the enabled automations
    whose trigger listens to `keys`: one indexed query on the trigger index alone."""
    with connection.cursor() as cursor:
        # One array parameter, not one parameter per key: a listener batch names hundreds.
        cursor.execute(f"SELECT {TRIGGER_COLUMNS} FROM {AutomationTrigger._meta.db_table}"
                       " WHERE kind = %s AND key = ANY(%s::varchar[])", [kind, _array(keys)])
        return _compiled_rows(cursor.fetchall())


def _compiled_rows(rows) -> list[tuple]:
    """Index rows with their compiled triggers; the documents of triggers this process has not
    compiled yet (a new automation, a new version) are read in one more query."""
    specs, missing = {}, []
    for automation_id, _home, version, _key, _last in rows:
        spec = compiled_mod.trigger_cached(automation_id, version)
        if spec is None:
            missing.append(automation_id)
        else:
            specs[automation_id] = spec
    if missing:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t.automation_id, t.version::text, a.trigger FROM {AutomationTrigger._meta.db_table} t"
                           f" JOIN {Automation._meta.db_table} a ON a.id = t.automation_id"
                           " WHERE t.automation_id = ANY(%s::uuid[])", [_array(missing)])
            for automation_id, version, trigger_cfg in cursor.fetchall():
                if isinstance(trigger_cfg, str):
                    trigger_cfg = json.loads(trigger_cfg)
                specs[automation_id] = trigger_of(automation_id, version, trigger_cfg)
    return [(automation_id, home_id, specs[automation_id], key, last)
            for automation_id, home_id, _version, key, last in rows if automation_id in specs]


def _device_lookup(device_ids, home_ids) -> tuple[list, list, list]:
    """Everything automations keep about these devices, in one round trip per listener batch:
    the device triggers listening to them, the runs waiting for one of them, and the active
    scenes of their homes (automations.services.scenes_check_states)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 't', automation_id, home_id, version::text, key, last_value, NULL::jsonb"
            f" FROM {AutomationTrigger._meta.db_table} WHERE kind = 'device' AND key = ANY(%s::varchar[])"
            f" UNION ALL SELECT 'w', id, wait_device_id, NULL, NULL, NULL, wait"
            f" FROM {AutomationRun._meta.db_table} WHERE status = 'waiting' AND wait_device_id = ANY(%s::uuid[])"
            f" UNION ALL SELECT 's', id, home_id, NULL, name, NULL, device_states"
            f" FROM {Scene._meta.db_table} WHERE is_active AND home_id = ANY(%s::uuid[])",
            [_array(device_ids), _array(device_ids), _array(home_ids)])
        rows = cursor.fetchall()
    triggers, waits, scenes = [], [], []
    for part, pk, other, version, text, last, document in rows:
        if isinstance(document, str):
            document = json.loads(document)
        if part == "t":
            triggers.append((pk, other, version, text, last))
        elif part == "w":
            waits.append((pk, other, document))
        else:
            scenes.append(SimpleNamespace(pk=pk, home_id=other, name=text, device_states=document))
    return _compiled_rows(triggers), waits, scenes


def _array(values) -> str:
    """A PostgreSQL array literal of ids (uuids or their text), passed as one parameter."""
    return "{" + ",".join(str(v) for v in values) + "}"


# --- matching: observers of devices, hubs and scenes ------------------------------------------


def pending_run(automation_id, home_id, event: dict, key: str) -> AutomationRun:
    return AutomationRun(automation_id=automation_id, home_id=home_id, trigger_key=key[:128], trigger=event,
                         status=Status.PENDING)


def _submit(runs: list[AutomationRun]) -> None:
    """Store the pending runs (a trigger event already stored is skipped) and hand them to a
    worker once the transaction commits."""
    if not runs:
        return
    AutomationRun.objects.bulk_create(runs, ignore_conflicts=True)
    hand_off("run_pending", [run.pk for run in runs], [run.automation_id for run in runs])


# A hand-off's runs are spread over up to this many tasks, so that a worker's processes start
# them side by side instead of one after another; the runs of one automation stay in one task,
# in the order they came.
HAND_OFF_TASKS = 8


def hand_off(task: str, run_ids: list, automation_ids: list | None = None) -> None:
    """Give the runs to workers (automations.tasks.`task`) once the transaction commits. The
    runs are stored either way: one whose hand-off is lost is taken up by the tick
    (PENDING_RESCUE_AFTER, or its resume_at). `automation_ids`, one per run, keeps each
    automation's runs together (the mode decides between them in order)."""
    groups: dict[str, list[str]] = {}
    for run_id, automation_id in zip(run_ids, automation_ids or run_ids):
        groups.setdefault(str(automation_id), []).append(str(run_id))
    tasks_ids: list[list[str]] = [[] for _ in range(min(HAND_OFF_TASKS, len(groups)))]
    for n, ids in enumerate(groups.values()):
        tasks_ids[n % len(tasks_ids)].extend(ids)

    def send():
        from automations import tasks

        for ids in tasks_ids:
            try:
                getattr(tasks, task).delay(ids)
            except Exception:
                logger.exception("could not hand %d automation runs to a worker (%s)", len(ids), task)

    transaction.on_commit(send)


def _timer_follow(automation_id, home_id, event: dict | None, spec, value, now) -> None:
    """A `for` trigger: a match starts its timer (one kept if already running); a value that
    no longer satisfies it cancels the timer. In the order the changes came."""
    if event is not None:
        AutomationTimer.objects.get_or_create(automation_id=automation_id, defaults={
            "home_id": home_id, "due_at": now + datetime.timedelta(seconds=spec.for_seconds), "trigger": event})
    elif not spec.holds(value):
        AutomationTimer.objects.filter(automation_id=automation_id).delete()


def on_state_changes(changes) -> None:
    """Observer of devices.state_changes: device triggers, `for` timers, waits, and whether the
    homes' active scenes still hold (automations.services.scenes_check_states)."""
    from automations import services

    by_device: dict[str, list] = {}
    for change in changes:
        by_device.setdefault(str(change.device_id), []).append(change)
    triggers, waits, scenes = _device_lookup(by_device, {str(c.home_id) for c in changes})
    if scenes:
        services.scenes_check_states(changes, scenes=scenes)
    runs = []
    now = timezone.now()
    for automation_id, home_id, spec, key, _last in triggers:
        for change in by_device[key]:
            event = spec.match(change)
            if spec.for_seconds:
                _timer_follow(automation_id, home_id, event, spec, change.state.get(spec.field), now)
            elif event is not None:
                runs.append(pending_run(automation_id, home_id, event, f"device:{key}:{event['at']}"))
    _submit(runs)
    if waits:
        _waits_wake(waits, by_device, now)


def on_readings(readings) -> None:
    """Observer of devices' telemetry: sensor thresholds (they fire on crossing)."""
    by_device: dict[str, list] = {}
    for reading in readings:
        by_device.setdefault(str(reading.device_id), []).append(reading)
    rows = _listening("sensor", by_device)
    if not rows:
        return
    runs, lasts = [], {}
    now = timezone.now()
    for automation_id, home_id, spec, key, last in rows:
        for reading in by_device[key]:
            value = reading.fields.get(spec.field)
            if value is None:
                continue
            event = spec.match(reading, last)
            if spec.for_seconds:
                _timer_follow(automation_id, home_id, event, spec, value, now)
            elif event is not None:
                runs.append(pending_run(automation_id, home_id, event, f"sensor:{key}:{event['at']}"))
            last = float(value)
        lasts[automation_id] = last
    for automation_id, last in lasts.items():
        AutomationTrigger.objects.filter(automation_id=automation_id).update(last_value=last)
    _submit(runs)


def on_hub_status(changes) -> None:
    """Observer of hubs.status_changes: hub online / offline triggers."""
    by_hub = {str(c.hub_id): c for c in changes}
    runs = []
    for automation_id, home_id, spec, key, _last in _listening("hub", by_hub):
        event = spec.match(by_hub[key])
        if event is not None:
            runs.append(pending_run(automation_id, home_id, event, f"hub:{key}:{event['at']}"))
    _submit(runs)


def on_scene_activated(*, scene, run, origin: str = "") -> None:
    """A scene was activated (automations.services.scene_activate); `origin` says by what."""
    activation = {"sceneId": str(scene.pk), "runId": str(run.pk), "at": run.created_at.isoformat(), "origin": origin}
    runs = []
    for automation_id, home_id, spec, key, _last in _listening("scene", [scene.pk]):
        event = spec.match(activation)
        runs.append(pending_run(automation_id, home_id, event, f"scene:{run.pk}"))
    _submit(runs)


def _waits_wake(waiting: list[tuple], by_device: dict[str, list], now) -> None:
    """Runs waiting for one of these devices to reach a state: wake those that did."""
    woken = []
    for pk, device_id, wait in waiting:
        test = comparison(wait)
        latest = by_device[str(device_id)][-1]
        value = latest.state.get(wait.get("attribute", "isActive"))
        if test is not None and test(value):
            woken.append(pk)
            AutomationRun.objects.filter(pk=pk, status=Status.WAITING).update(
                resume_at=now, wait={**wait, "satisfied": True, "value": value})
    if woken:
        hand_off("resume_runs", woken)
