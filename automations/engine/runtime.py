"""The automation engine at run time: pending runs in, runs with traces out.

1. **Matching** (automations.engine.matching, inside the transaction that wrote the change)
   turns state changes, readings, hub status changes and scene activations into pending runs
   through the trigger index, and hands them to a worker after commit.
2. **Starting** (a worker). Under the automation's row lock: the loop guard, the mode
   (single / restart / queued / parallel, with max runs), then the conditions, each traced
   with the value it saw.
3. **Steps**. Device, group and scene actions go through the control path
   (automations.actions); notify publishes to the home's feed; a delay or a wait for a state
   stores the run as *waiting* with its step and its wake-up time, and the tick (or the
   awaited state change) resumes it, on any worker, after any restart.
4. **The tick** (`automations.engine_tick`, every second): due time and sun triggers, due
   `for` timers, due delays and wait timeouts, and pending runs whose hand-off was lost.

Every run records its trace and ends with `automation:run` on the live feed.
"""
import datetime
import logging
import time

from django.db import transaction
from django.utils import timezone

from realtime import publish

from ..models import Automation, AutomationRun, AutomationTimer, AutomationTrigger, Source
from . import compiled as compiled_mod
from . import matching
from .compiled import RunContext, check_all, comparison, compile_automation

logger = logging.getLogger(__name__)

Status = AutomationRun.Status
# An automation whose own commands trigger it again this many times within the window is
# stopped and disabled (the loop guard).
LOOP_LIMIT = 10
LOOP_WINDOW = datetime.timedelta(seconds=60)
# A pending run whose hand-off to a worker got lost is picked up by the tick after this.
PENDING_RESCUE_AFTER = datetime.timedelta(seconds=10)
# A time or sun trigger missed by more than this (the server was down) is skipped.
TRIGGER_GRACE = datetime.timedelta(minutes=5)
BATCH = 200


def origin_of(automation_id) -> str:
    return f"automation:{automation_id}"


# --- runs -------------------------------------------------------------------------------------


def run_event(run: AutomationRun, automation: Automation) -> dict:
    return {"automationId": str(automation.pk), "name": automation.name, "runId": str(run.pk),
            "status": run.status, "trigger": run.trigger.get("kind"), "step": run.step}


def _finish(run: AutomationRun, automation: Automation, status: str, now, note: str | None = None) -> None:
    run.status, run.finished_at, run.resume_at = status, now, None
    if note:
        run.trace["note"] = note
    run.trace["finishedAt"] = now.isoformat()
    run.save(update_fields=["status", "started_at", "step", "finished_at", "resume_at", "trace", "updated_at"])
    publish(automation.home_id, "automation:run", run_event(run, automation))
    if automation.mode == Automation.Mode.QUEUED:
        following = (AutomationRun.objects.filter(automation=automation, status=Status.QUEUED)
                     .order_by("created_at").first())
        if following is not None:
            AutomationRun.objects.filter(pk=following.pk).update(status=Status.PENDING)
            matching.hand_off("run_pending", [following.pk])


def _loop_guard(run: AutomationRun, automation: Automation, now) -> bool:
    """True when the automation keeps triggering itself: it is stopped and disabled."""
    if run.trigger.get("origin") != origin_of(automation.pk):
        return False
    recent = AutomationRun.objects.filter(automation=automation, created_at__gte=now - LOOP_WINDOW,
                                          trigger__origin=origin_of(automation.pk)).count()
    if recent <= LOOP_LIMIT:
        return False
    reason = (f"Stopped: its own actions triggered it {recent} times within {int(LOOP_WINDOW.total_seconds())} s. "
              "Change what it does or what triggers it, then enable it again.")
    automation.enabled, automation.disabled_reason = False, reason
    automation.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    matching.index_refresh(automation)
    _stop_active(automation, now, note="the loop guard disabled the automation", but=run.pk)
    publish(automation.home_id, "automation:update", {"automationId": str(automation.pk), "name": automation.name,
                                                      "enabled": False, "disabledReason": reason})
    _finish(run, automation, Status.STOPPED, now, note=reason)
    return True


def _stop_active(automation: Automation, now, *, note: str, but=None) -> None:
    for active in AutomationRun.objects.filter(automation=automation,
                                               status__in=(*AutomationRun.ACTIVE, Status.PENDING)).exclude(pk=but):
        _finish(active, automation, Status.STOPPED, now, note=note)


def stop_runs(automation: Automation, *, note: str) -> None:
    """The automation was disabled: its runs stop where they are (services)."""
    _stop_active(automation, timezone.now(), note=note)


def _locked(run_id) -> tuple[AutomationRun, Automation] | tuple[None, None]:
    """The run and its automation, locked in that order (automation first, as every writer):
    the automation found through the run and locked in one query, then the run."""
    automation = (Automation.objects.select_for_update(of=("self",)).select_related("home")
                  .filter(runs__pk=run_id).first())
    if automation is None:
        return None, None
    return AutomationRun.objects.select_for_update().get(pk=run_id), automation


def start(run_id, *, now: datetime.datetime | None = None) -> AutomationRun | None:
    """Start a pending run: loop guard, mode, conditions, then its steps. Idempotent: a run
    that is no longer pending is left alone (a redelivered task, the tick's rescue)."""
    now = now or timezone.now()
    with transaction.atomic():
        run, automation = _locked(run_id)
        if run is None or run.status != Status.PENDING:
            return run
        run.trace = {"trigger": run.trigger, "startedAt": now.isoformat(), "conditions": [], "actions": []}
        if not automation.enabled:
            _finish(run, automation, Status.STOPPED, now, note="the automation is disabled")
            return run
        if _loop_guard(run, automation, now):
            return run
        active = list(AutomationRun.objects.filter(automation=automation, status__in=AutomationRun.ACTIVE)
                      .exclude(pk=run.pk).order_by("created_at"))
        mode = automation.mode
        if mode == Automation.Mode.SINGLE and active:
            _finish(run, automation, Status.DROPPED, now, note="already running (mode single)")
            return run
        if mode == Automation.Mode.RESTART:
            for other in active:
                _finish(other, automation, Status.CANCELLED, now, note=f"restarted by run {run.pk}")
        if mode == Automation.Mode.PARALLEL and len(active) >= automation.max_runs:
            _finish(run, automation, Status.DROPPED, now, note=f"{len(active)} runs already (max {automation.max_runs})")
            return run
        if mode == Automation.Mode.QUEUED and active:
            if len(active) > automation.max_runs:
                _finish(run, automation, Status.DROPPED, now,
                        note=f"{len(active) - 1} runs queued already (max {automation.max_runs})")
                return run
            run.status = Status.QUEUED
            run.save(update_fields=["status", "trace", "updated_at"])
            return run
        run.status, run.started_at = Status.RUNNING, now
        compiled = compile_automation(automation)
        ctx = RunContext(home=automation.home, now=now, trigger=run.trigger, device_ids=compiled.device_ids)
        if not run.skip_conditions:
            passed, trace = check_all(compiled.conditions, ctx)
            run.trace["conditions"] = trace
            if not passed:
                _finish(run, automation, Status.CONDITIONS_FAILED, now)
                return run
        else:
            run.trace["conditions"] = "skipped"
        _advance(run, automation, compiled, ctx)
    return run


def resume(run_id, *, now: datetime.datetime | None = None) -> AutomationRun | None:
    """Wake a waiting run whose delay ran out, whose awaited state came, or whose wait timed out."""
    now = now or timezone.now()
    with transaction.atomic():
        run, automation = _locked(run_id)
        if run is None or run.status != Status.WAITING or run.resume_at is None or run.resume_at > now:
            return run
        step = run.trace["actions"][-1] if run.trace.get("actions") else {}
        if run.wait is not None:
            if run.wait.get("satisfied"):
                step.update(outcome="state reached", saw=run.wait.get("value"))
            else:
                step.update(outcome="timed out")
            run.wait, run.wait_device_id = None, None
        else:
            step.update(outcome="delay over")
        step["resumedAt"] = now.isoformat()
        run.status = Status.RUNNING
        compiled = compile_automation(automation)
        ctx = RunContext(home=automation.home, now=now, trigger=run.trigger, device_ids=compiled.device_ids)
        _advance(run, automation, compiled, ctx)
    return run


def _advance(run: AutomationRun, automation: Automation, compiled, ctx: RunContext) -> None:
    """Run the steps from `run.step`, until the end or a step that waits."""
    from automations import actions

    origin = origin_of(automation.pk)
    for index in range(run.step, len(compiled.steps)):
        step = compiled.steps[index]
        started = time.perf_counter()
        entry = {"path": step.path, "type": step.kind, "startedAt": timezone.now().isoformat()}
        run.trace["actions"].append(entry)
        run.step = index + 1
        try:
            if step.kind in actions.EXECUTORS:
                with transaction.atomic():
                    entry.update(actions.EXECUTORS[step.kind](home_id=automation.home_id, action=step.cfg,
                                                              source=Source.AUTOMATION, origin=origin))
            elif step.kind == "notify":
                publish(automation.home_id, "automation:notify", {
                    "automationId": str(automation.pk), "name": automation.name, "runId": str(run.pk),
                    "message": step.cfg["message"]})
                entry.update(_notify(automation, run, step.cfg, ctx.now))
            elif step.kind == "delay":
                run.resume_at = ctx.now + datetime.timedelta(seconds=step.cfg["seconds"])
                entry["delayedUntil"] = run.resume_at.isoformat()
                return _wait(run, automation, entry, started)
            elif step.kind == "wait":
                ctx.forget(step.cfg["deviceId"])
                state = ctx.state_of(step.cfg["deviceId"])
                value = state.get(step.cfg.get("attribute", "isActive")) if state else None
                if state is not None and comparison(step.cfg)(value):
                    entry.update(outcome="state reached", saw=value)
                else:
                    run.resume_at = ctx.now + datetime.timedelta(seconds=step.cfg["timeout"])
                    run.wait_device_id, run.wait = step.cfg["deviceId"], dict(step.cfg)
                    entry.update(waitingUntil=run.resume_at.isoformat(), saw=value)
                    return _wait(run, automation, entry, started)
        except Exception as exc:
            logger.exception("automation %s run %s failed at %s", automation.pk, run.pk, step.path)
            entry.update(outcome="failed", error=type(exc).__name__)
            entry["ms"] = round((time.perf_counter() - started) * 1000, 1)
            return _finish(run, automation, Status.FAILED, timezone.now(), note=f"{step.path} failed")
        entry["ms"] = round((time.perf_counter() - started) * 1000, 1)
    _finish(run, automation, Status.SUCCEEDED, timezone.now())


def _notify(automation: Automation, run: AutomationRun, cfg: dict, now) -> dict:
    """A notify step is an alert of the automation (alerts: one per automation while it is
    open, told to the home's contacts by its policy), besides the live feed's event."""
    from alerts import services as alerts

    [row] = alerts.alerts_raise([alerts.Signal(
        home_id=automation.home_id, source="automation", source_id=automation.pk, kind="automation",
        severity=cfg.get("severity", "info"), title=cfg["message"], seen=now,
        data={"automation": automation.name, "runId": str(run.pk)})])
    return {"outcome": "alert raised" if row["inserted"] else "alert repeated", "alertId": str(row["id"])}


def _wait(run: AutomationRun, automation: Automation, entry: dict, started: float) -> None:
    entry["ms"] = round((time.perf_counter() - started) * 1000, 1)
    run.status = Status.WAITING
    run.save(update_fields=["status", "step", "resume_at", "wait", "wait_device_id", "trace", "started_at",
                            "updated_at"])
    publish(automation.home_id, "automation:run", run_event(run, automation))


def run_now(*, automation: Automation, actor=None, skip_conditions: bool = False) -> AutomationRun:
    """`POST …/automations/{id}/run`: a run by hand, started at once (mode and loop guard apply)."""
    now = timezone.now()
    run = AutomationRun.objects.create(
        automation=automation, home_id=automation.home_id, trigger_key=f"manual:{now.isoformat()}:{actor and actor.pk}",
        trigger={"kind": "manual", "at": now.isoformat(), "userId": str(actor.pk) if actor else None},
        skip_conditions=skip_conditions, actor=actor)
    start(run.pk, now=now)
    run.refresh_from_db()
    return run


# --- the tick ---------------------------------------------------------------------------------


def _due_triggers(now) -> list[AutomationRun]:
    runs = []
    rows = list(AutomationTrigger.objects.filter(next_at__lte=now).select_related("automation__home")
                .select_for_update(skip_locked=True, of=("self",)).order_by("next_at")[:BATCH])
    for row in rows:
        automation = row.automation
        spec = compiled_mod.compile_trigger(automation.trigger)
        due = row.next_at
        if now - due <= TRIGGER_GRACE:
            event = {"kind": spec.kind, "value": spec.cfg.get("at") or spec.cfg.get("event"), "at": due.isoformat(),
                     "firedAt": now.isoformat()}
            runs.append(matching.pending_run(automation.pk, automation.home_id, event, f"{spec.kind}:{due.isoformat()}"))
        else:
            logger.info("automation %s: %s trigger due %s missed (now %s)", automation.pk, spec.kind, due, now)
        row.next_at = spec.next_at(max(now, due), automation.home)
        row.save(update_fields=["next_at"])
    return runs


def _due_timers(now) -> list[AutomationRun]:
    timers = list(AutomationTimer.objects.filter(due_at__lte=now).select_for_update(skip_locked=True)[:BATCH])
    runs = [matching.pending_run(t.automation_id, t.home_id, {**t.trigger, "heldFor": True, "firedAt": now.isoformat()},
                     f"for:{t.trigger.get('at')}") for t in timers]
    AutomationTimer.objects.filter(pk__in=[t.pk for t in timers]).delete()
    return runs


def engine_tick(*, now: datetime.datetime | None = None) -> dict:
    """One tick: due time/sun triggers and `for` timers become pending runs; due waits resume;
    lost hand-offs are rescued. Returns counts. `now` fixes the clock (tests)."""
    now = now or timezone.now()
    with transaction.atomic():
        runs = _due_triggers(now) + _due_timers(now)
        if runs:
            AutomationRun.objects.bulk_create(runs, ignore_conflicts=True)
    for run in runs:
        _safely(start, run.pk, now)
    waking = list(AutomationRun.objects.filter(status=Status.WAITING, resume_at__lte=now)
                  .values_list("pk", flat=True)[:BATCH])
    for pk in waking:
        _safely(resume, pk, now)
    rescued = list(AutomationRun.objects.filter(status=Status.PENDING, created_at__lte=now - PENDING_RESCUE_AFTER)
                   .values_list("pk", flat=True)[:BATCH])
    for pk in rescued:
        _safely(start, pk, now)
    started = AutomationRun.objects.filter(pk__in=[r.pk for r in runs]).exclude(status=Status.PENDING).count()
    return {"started": started, "resumed": len(waking), "rescued": len(rescued)}


def _safely(step, run_id, now=None) -> None:
    """Start or resume one run; one that cannot (a document no longer compiles, say) is marked
    failed instead of being retried by every tick."""
    try:
        step(run_id, now=now)
    except Exception as exc:
        logger.exception("automation run %s could not go on", run_id)
        AutomationRun.objects.filter(pk=run_id, status__in=(Status.PENDING, Status.RUNNING, Status.WAITING)).update(
            status=Status.FAILED, finished_at=timezone.now(), resume_at=None,
            trace={"note": f"could not run: {type(exc).__name__}"})


def run_pending(run_ids: list[str]) -> None:
    for run_id in run_ids:
        _safely(start, run_id)


def resume_runs(run_ids: list[str]) -> None:
    for run_id in run_ids:
        _safely(resume, run_id)


