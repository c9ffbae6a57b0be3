"""Alert tasks: the tick (registered for beat by alerts/migrations) raises causes whose delay is over."""
from celery import shared_task

from . import services


@shared_task(name="alerts.tick")
def alerts_tick() -> int:
    return services.alerts_tick()
