"""Periodic device tasks (registered for beat by devices/migrations/0004_periodic_tasks)."""
from celery import shared_task

from devices import services


@shared_task(name="devices.commands_expire")
def commands_expire() -> int:
    return services.commands_expire()


@shared_task(name="devices.learn_sessions_expire")
def learn_sessions_expire() -> int:
    return services.learn_sessions_expire()
