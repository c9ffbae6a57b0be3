"""Periodic automation tasks (registered for beat by automations/migrations/0004_periodic_tasks)."""
from celery import shared_task

from . import scheduler


@shared_task(name="automations.schedules_tick")
def schedules_tick() -> dict:
    return scheduler.schedules_tick()
