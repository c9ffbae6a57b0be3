"""Shared by the engine's suites: automations made through the service, state changes as the
listener hands them over, and pending runs started the way a worker starts them
(runtime.start). The hall they act in is conftest's `place` fixture."""
import datetime

from automations import services
from automations.engine import runtime
from automations.models import Automation, AutomationRun
from devices.state_changes import StateChange

UTC = datetime.UTC


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def automation(home, *, trigger, actions, conditions=None, **fields) -> Automation:
    return services.automation_create(home=home, name=fields.pop("name", "Auto"), trigger=trigger,
                                      conditions=conditions or [], actions=actions, **fields)


def turn_on(device):
    return {"type": "device", "deviceId": str(device.pk), "state": {"isActive": True}}


def change(device, *, before, after, ts=None, origin=""):
    return StateChange(home_id=device.home_id, device_id=device.pk, state=after, previous=before,
                       ts=ts or datetime.datetime.now(UTC), origin=origin)


def start_pending(now=None) -> list[AutomationRun]:
    """What the worker does with the runs handed to it."""
    for pk in AutomationRun.objects.filter(status="pending").order_by("created_at").values_list("pk", flat=True):
        runtime.start(pk, now=now)
    return list(AutomationRun.objects.order_by("created_at"))
