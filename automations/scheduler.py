"""The schedule tick: fires each due schedule once, in its home's time, and records the run.

Celery beat sends `automations.schedules_tick` every second (automations/tasks.py). A tick
reads only what is due, through the partial index on `next_run_at`, a batch at a time, and
locks the batch with SKIP LOCKED: two ticks at once (two beats, a retried task, a second
worker) take disjoint schedules. Each schedule's firing is a `ScheduleRun` unique on
(schedule, due time), written in the same transaction as its commands and its next due
time, so a tick killed midway rolls all of it back and the next tick fires it, once.

A run late by up to the schedule's grace window fires and is marked late; an older one
(the server was down) is recorded as missed and not fired. Either way `next_run_at` moves
to the first due time after now.
"""
import datetime
import logging
import time

from django.db import transaction
from django.utils import timezone

from realtime import publish

from . import actions
from .models import Schedule, ScheduleRun, Source
from .timing import next_run_at

logger = logging.getLogger(__name__)

# A run that starts later than this after its due time is marked late (ticks run every second).
LATE_AFTER = datetime.timedelta(seconds=30)
BATCH = 100


def run_event(run: ScheduleRun, schedule: Schedule) -> dict:
    return {"scheduleId": str(schedule.pk), "name": schedule.name, "runId": str(run.pk),
            "dueAt": run.due_at.isoformat(), "status": run.status}


def _fire(schedule: Schedule, now: datetime.datetime) -> ScheduleRun | None:
    due = schedule.next_run_at
    following = next_run_at(at=schedule.time, days=schedule.days, tz=schedule.home.timezone, after=max(now, due))
    if ScheduleRun.objects.filter(schedule=schedule, due_at=due).exists():
        # Fired already (the due time came back through an edit): only move on.
        Schedule.objects.filter(pk=schedule.pk).update(next_run_at=following)
        return None
    lateness = now - due
    run = ScheduleRun(home_id=schedule.home_id, schedule=schedule, due_at=due)
    if lateness > datetime.timedelta(seconds=schedule.grace_seconds):
        run.status = ScheduleRun.Status.MISSED
    else:
        run.status = ScheduleRun.Status.LATE if lateness > LATE_AFTER else ScheduleRun.Status.ON_TIME
        run.fired_at = now
        try:
            with transaction.atomic():
                run.outcomes = actions.run_actions(home_id=schedule.home_id, actions=schedule.actions,
                                                   source=Source.SCHEDULE)
        except Exception:
            # One broken schedule must not stop the others: its run says it failed.
            logger.exception("schedule %s failed to fire", schedule.pk)
            run.status, run.outcomes = ScheduleRun.Status.FAILED, []
    run.save()
    fields = {"next_run_at": following, "updated_at": now}
    if run.fired_at:
        fields["last_run_at"] = now
    Schedule.objects.filter(pk=schedule.pk).update(**fields)
    publish(schedule.home_id, "schedule:run", run_event(run, schedule))
    return run


def schedules_tick(*, now: datetime.datetime | None = None, batch: int = BATCH,
                   budget: datetime.timedelta = datetime.timedelta(seconds=50)) -> dict:
    """Fire every schedule due by now; counts by run status.

    Batches commit one after another until nothing due is left unlocked, or `budget` has
    passed (the next tick takes over). Each batch reads the clock again, so a long tick also
    takes what fell due meanwhile and `firedAt` is when it fired. `now` fixes the clock (tests).
    """
    clock = (lambda: now) if now is not None else timezone.now
    started = time.monotonic()
    counts: dict[str, int] = {}
    while time.monotonic() - started < budget.total_seconds():
        with transaction.atomic():
            due = list(Schedule.objects.filter(enabled=True, next_run_at__lte=clock()).select_related("home")
                       .order_by("next_run_at").select_for_update(skip_locked=True, of=("self",))[:batch])
            for schedule in due:
                run = _fire(schedule, clock())
                if run is not None:
                    counts[run.status] = counts.get(run.status, 0) + 1
        if len(due) < batch:
            break
    return counts
