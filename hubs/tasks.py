"""Periodic hub tasks (registered for beat by devices/migrations/0004_periodic_tasks)."""
from celery import shared_task

from hubs.ingest.presence import hubs_offline_sweep


@shared_task(name="hubs.offline_sweep")
def offline_sweep() -> int:
    return hubs_offline_sweep()
