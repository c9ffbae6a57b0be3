"""The automation engine with a real Celery worker and beat, the test broker and the listener:
a hub's report triggers an automation whose command reaches the hub; a delay outlives the
worker that started waiting (killed with SIGKILL) and completes once on the next one."""
import datetime
import signal
import time

import pytest

from automations import services
from automations.engine import runtime
from automations.models import AutomationRun
from devices.models import Command
from tests import factories as f
from tests.ingest.conftest import wait_until

from .test_schedule_worker import Stack

pytestmark = pytest.mark.django_db(transaction=True)


def _register_ticks():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(name="Run due automation timers", defaults={
        "task": "automations.engine_tick", "interval": every, "enabled": True, "expire_seconds": 5})


@pytest.fixture
def stack(tmp_path, mqtt, settings):
    _register_ticks()
    # The listener here hands triggered runs to this process's queue: the worker takes that one.
    running = Stack(tmp_path, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    yield running
    running.stop()


@pytest.fixture
def hall(home):
    hub = f.HubFactory(home=home)
    room = f.RoomFactory(home=home, name="Hall")
    lamp = f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee")
    porch = f.DeviceFactory(room=room, hub=hub, name="Porch", type="light", category="Zigbee")
    return home, hub, lamp, porch


def test_a_hub_report_triggers_an_automation_whose_command_reaches_the_hub(stack, hall, api, listener, sim_hub):
    home, hub, lamp, porch = hall
    auto = services.automation_create(
        home=home, name="Porch follows lamp", trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
        actions=[{"type": "device", "deviceId": str(porch.pk), "state": {"isActive": True}}])
    listener()
    simulated = sim_hub(hub, [lamp, porch])
    stack.worker()

    response = api.put(f"/api/homes/{home.pk}/devices/{lamp.pk}/control", {"isActive": True}, format="json")
    assert response.status_code == 200, response.content
    try:
        run = wait_until(lambda: AutomationRun.objects.filter(automation=auto, status="succeeded").first(), timeout=30)
        command_id = run.trace["actions"][0]["devices"][0]["commandId"]
        wait_until(lambda: Command.objects.get(pk=command_id).status == "confirmed", timeout=10)
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    assert simulated.commands_seen == 2
    assert Command.objects.get(pk=command_id).origin == f"automation:{auto.pk}"
    assert run.trigger["value"] is True and run.trigger["origin"] == ""
    porch.refresh_from_db()
    assert porch.is_active is True
    assert AutomationRun.objects.filter(automation=auto).count() == 1


def test_a_delay_survives_the_worker_being_killed(stack, hall, listener, sim_hub):
    home, hub, lamp, porch = hall
    auto = services.automation_create(
        home=home, name="Later", trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
        actions=[{"type": "delay", "seconds": 6}, {"type": "device", "deviceId": str(porch.pk),
                                                    "state": {"isActive": True}}])
    listener()
    simulated = sim_hub(hub, [lamp, porch])
    run = runtime.run_now(automation=auto)
    assert run.status == "waiting"
    first = stack.worker("worker-a")
    stack.beat()
    time.sleep(2)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert AutomationRun.objects.get(pk=run.pk).status == "waiting"
    stack.worker("worker-b")

    try:
        wait_until(lambda: AutomationRun.objects.get(pk=run.pk).status == "succeeded", timeout=30)
        wait_until(lambda: simulated.commands_seen == 1, timeout=10)
        time.sleep(2)
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    run.refresh_from_db()
    resumed = datetime.datetime.fromisoformat(run.trace["actions"][0]["resumedAt"])
    assert datetime.datetime.fromisoformat(run.trace["actions"][0]["delayedUntil"]) <= resumed
    assert Command.objects.filter(device=porch).count() == 1
    assert simulated.commands_seen == 1
