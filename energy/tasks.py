"""Periodic energy work for Celery beat: roll up new readings, drop raw readings past retention."""
from celery import shared_task
from django.db import transaction

from . import rollups, services


@shared_task(acks_late=True, ignore_result=True)
def rollup_pending() -> int:
    """Rebuild the rollups of every (home, hour) written since the last run."""
    return rollups.run_all_pending()


@shared_task(acks_late=True, ignore_result=True)
def drop_expired_readings() -> str:
    """Drop raw readings older than ENERGY_RAW_RETENTION_DAYS (rollups stay)."""
    return services.drop_expired_readings().isoformat()


@shared_task(acks_late=True, ignore_result=True)
def purge_home_history(home_id: str) -> None:
    """Remove a deleted home's readings and rollups."""
    services.home_history_purge(home_id=home_id)


def schedule_home_history_purge(sender, instance, **kwargs) -> None:
    """post_delete of a Home: its history goes in the background, once the deletion commits."""
    home_id = str(instance.pk)
    transaction.on_commit(lambda: purge_home_history.delay(home_id))
