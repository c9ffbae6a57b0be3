"""Automation tasks: the periodic ticks (registered for beat by automations/migrations) and
the hand-off of triggered runs to a worker. Late acknowledgement (settings): a worker killed
mid-task leaves the message to another; every task is idempotent (runs are unique per
trigger event and start only from pending)."""
from celery import shared_task

from . import scheduler
from .engine import runtime


@shared_task(name="automations.schedules_tick")
def schedules_tick() -> dict:
    # A backlog (many schedules due at once, or after downtime) calls one more tick at once;
    # like beat's own, it is dropped if no worker takes it within 5 s.
    return scheduler.schedules_tick(call_for_help=lambda: schedules_tick.apply_async(expires=5))


@shared_task(name="automations.engine_tick")
def engine_tick() -> dict:
    return runtime.engine_tick()


@shared_task(name="automations.run_pending")
def run_pending(run_ids: list[str]) -> None:
    runtime.run_pending(run_ids)


@shared_task(name="automations.resume_runs")
def resume_runs(run_ids: list[str]) -> None:
    runtime.resume_runs(run_ids)
