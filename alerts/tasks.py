"""Alert tasks: the tick (registered for beat by alerts/migrations) raises causes whose delay is
over, escalates critical alerts nobody acknowledged and sends what is due again; `deliver` sends
the notifications planned by a transaction that just committed. Late acknowledgement
(settings) and claims in the database make both safe to run twice."""
from celery import shared_task

from . import notify, services


@shared_task(name="alerts.tick")
def alerts_tick() -> dict:
    raised = services.alerts_tick()
    escalated = services.alerts_escalate_due()
    sent = notify.deliver(notify.due())
    return {"raised": raised, "escalated": escalated, **sent}


@shared_task(name="alerts.deliver")
def deliver(ids: list[str]) -> dict:
    return notify.deliver(ids)


@shared_task(name="alerts.check_budgets")
def check_budgets() -> dict:
    from . import detection

    return detection.check_budgets()


@shared_task(name="alerts.check_devices")
def check_devices() -> dict:
    from . import detection

    return detection.check_devices()
