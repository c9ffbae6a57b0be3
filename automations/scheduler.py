"""The schedule tick: fires each due schedule once, in its home's time, and records the run.

Celery beat sends `automations.schedules_tick` every second (automations/tasks.py). A tick
reads only what is due, through the partial index on `next_run_at`, a batch at a time, and
locks the batch with SKIP LOCKED: two ticks at once (two beats, a retried task, a second
worker) take disjoint schedules. Each schedule's firing is a `ScheduleRun` unique on
(schedule, due time), written in the same transaction as its commands and its next due
time, so a tick killed midway rolls all of it back and the next tick fires it, once.

A batch works as a set: one read of the runs it may have already, one `run_actions_many`
for the actions of all its schedules (their commands inserted together and handed to the
hubs together after the commit), one insert of its runs, one update of their next due times,
one pipelined publish of their events. If that fails, the batch fires again schedule by
schedule, each in its own savepoint, so one broken schedule is a failed run and not a stuck
tick.

A run late by up to the schedule's grace window fires and is marked late; an older one
(the server was down) is recorded as missed and not fired. Either way `next_run_at` moves
to the first due time after now.
"""
import datetime
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from realtime.events import publish_many
from veahome.services import bulk_insert

from . import actions
from .models import Schedule, ScheduleRun, Source
from .timing import next_run_at

logger = logging.getLogger(__name__)

# A run that starts later than this after its due time is marked late (ticks run every second).
LATE_AFTER = datetime.timedelta(seconds=30)
BATCH = 500


def run_event(run: ScheduleRun, schedule: Schedule) -> dict:
    return {"scheduleId": str(schedule.pk), "name": schedule.name, "runId": str(run.pk),
            "dueAt": run.due_at.isoformat(), "status": run.status}


def _fired_before(schedules: list[Schedule]) -> set:
    """The schedules of the batch whose due time has its run already (an edit brought it back)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT r.schedule_id FROM {ScheduleRun._meta.db_table} r"
                       " JOIN unnest(%s::uuid[], %s::timestamptz[]) AS d(schedule_id, due_at)"
                       " ON r.schedule_id = d.schedule_id AND r.due_at = d.due_at",
                       [[str(s.pk) for s in schedules], [s.next_run_at for s in schedules]])
        return {row[0] for row in cursor.fetchall()}


def _move_on(moves: list[tuple]) -> None:
    """One update of (schedule id, next due time, last fired or None) for the whole batch."""
    if not moves:
        return
    ids, nexts, lasts = zip(*moves)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Schedule._meta.db_table} s SET next_run_at = m.next_run_at,"
                       " last_run_at = COALESCE(m.last_run_at, s.last_run_at), updated_at = now()"
                       " FROM unnest(%s::uuid[], %s::timestamptz[], %s::timestamptz[])"
                       " AS m(id, next_run_at, last_run_at) WHERE s.id = m.id",
                       [[str(pk) for pk in ids], list(nexts), list(lasts)])


def _outcomes_one_by_one(runs: list[tuple[ScheduleRun, Schedule]]) -> None:
    for run, schedule in runs:
        try:
            with transaction.atomic():
                run.outcomes = actions.run_actions(home_id=schedule.home_id, actions=schedule.actions,
                                                   source=Source.SCHEDULE)
        except Exception:
            # One broken schedule must not stop the others: its run says it failed.
            logger.exception("schedule %s failed to fire", schedule.pk)
            run.status, run.outcomes = ScheduleRun.Status.FAILED, []


def _fire_batch(schedules: list[Schedule], now: datetime.datetime) -> list[ScheduleRun]:
    """Fire (or record as missed) every schedule of a locked batch; the runs it recorded."""
    before = _fired_before(schedules)
    runs, firing, moves = [], [], []
    for schedule in schedules:
        due = schedule.next_run_at
        following = next_run_at(at=schedule.time, days=schedule.days, tz=schedule.home.timezone, after=max(now, due))
        if schedule.pk in before:
            moves.append((schedule.pk, following, None))
            continue
        lateness = now - due
        run = ScheduleRun(home_id=schedule.home_id, schedule=schedule, due_at=due)
        if lateness > datetime.timedelta(seconds=schedule.grace_seconds):
            run.status = ScheduleRun.Status.MISSED
            moves.append((schedule.pk, following, None))
        else:
            run.status = ScheduleRun.Status.LATE if lateness > LATE_AFTER else ScheduleRun.Status.ON_TIME
            run.fired_at = now
            firing.append((run, schedule))
            moves.append((schedule.pk, following, now))
        runs.append(run)
    try:
        with transaction.atomic():
            outcomes = actions.run_actions_many(jobs=[(s.home_id, s.actions) for _, s in firing],
                                                source=Source.SCHEDULE)
        for (run, _), run_outcomes in zip(firing, outcomes):
            run.outcomes = run_outcomes
    except Exception:
        logger.warning("a batch of %d schedules failed to fire together; firing them one by one", len(firing),
                       exc_info=True)
        _outcomes_one_by_one(firing)
    bulk_insert(runs)
    _move_on(moves)
    publish_many([(run.home_id, "schedule:run", run_event(run, run.schedule)) for run in runs])
    return runs


def schedules_tick(*, now: datetime.datetime | None = None, batch: int = BATCH,
                   budget: datetime.timedelta = datetime.timedelta(seconds=50), call_for_help=None) -> dict:
    """Fire every schedule due by now; counts by run status.

    Batches commit one after another until nothing due is left unlocked, or `budget` has
    passed (the next tick takes over). Each batch reads the clock again, so a long tick also
    takes what fell due meanwhile and `firedAt` is when it fired. `now` fixes the clock (tests).
    When the first batch is full, `call_for_help()` is called once: the task asks for one more
    tick at once, so that an idle worker joins now rather than at the next beat (each helper
    may ask for one more, while the backlog lasts; SKIP LOCKED keeps them apart).
    """
    clock = (lambda: now) if now is not None else timezone.now
    started = time.monotonic()
    counts: dict[str, int] = {}
    while time.monotonic() - started < budget.total_seconds():
        with transaction.atomic():
            due = list(Schedule.objects.filter(enabled=True, next_run_at__lte=clock()).select_related("home")
                       .order_by("next_run_at").select_for_update(skip_locked=True, of=("self",))[:batch])
            for run in _fire_batch(due, clock()) if due else []:
                counts[run.status] = counts.get(run.status, 0) + 1
        if len(due) < batch:
            break
        if call_for_help is not None:
            call_for_help()
            call_for_help = None
    return counts
