"""Schedules fired by a real Celery beat and worker on the test database, through the Redis
broker and the test Mosquitto: a schedule due in a few seconds fires once and the simulated
hub gets its command; two beats and a worker killed in the middle of a tick still fire every
due schedule exactly once."""
import datetime
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from automations import services
from automations.models import Schedule, ScheduleRun
from devices.models import Command
from tests import factories as f
from tests.ingest.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
EVERY_DAY = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _register_tick():
    """The tick's beat entry (its migration's rows do not survive the flush between tests)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(name="Fire due schedules", defaults={
        "task": "automations.schedules_tick", "interval": every, "enabled": True, "expire_seconds": 5})


class Stack:
    """Worker and beat processes on this test's database, queue and broker. `queue`: the one
    this process sends to (for tasks handed off here, as the listener does), or a new one."""

    def __init__(self, tmp_path: Path, queue: str | None = None):
        db = connection.settings_dict
        self.tmp = tmp_path
        self.env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
                    "CELERY_QUEUE": queue or f"sched-{uuid.uuid4().hex[:8]}", "MQTT_URL": settings.MQTT_URL,
                    "MQTT_TOPIC_PREFIX": settings.MQTT_TOPIC_PREFIX}
        self.processes: list[subprocess.Popen] = []

    def _start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "veahome", *args, "-l", "INFO"],
                                   cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def worker(self, name="worker") -> subprocess.Popen:
        return self._start(name, "worker", "-Q", self.env["CELERY_QUEUE"], "-c", "1", "--pool", "solo",
                           "-n", f"{name}-{uuid.uuid4().hex[:6]}@%h")

    def beat(self, name="beat") -> subprocess.Popen:
        return self._start(name, "beat", "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                           "--pidfile=", "-s", str(self.tmp / f"{name}-schedule"))

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in self.tmp.glob("*.log"))


@pytest.fixture
def stack(tmp_path, mqtt):
    _register_tick()
    running = Stack(tmp_path)
    yield running
    running.stop()


def test_a_schedule_due_in_a_few_seconds_fires_once_and_the_hub_gets_the_command(stack, home, listener, sim_hub):
    hub = f.HubFactory(home=home)
    lamp = f.DeviceFactory(room=f.RoomFactory(home=home), hub=hub, name="Lamp", type="light", category="Zigbee")
    listener()
    simulated = sim_hub(hub, [lamp])
    local = (timezone.now() + datetime.timedelta(seconds=6)).astimezone(home.tz)
    schedule = services.schedule_create(home=home, name="Soon", time=local.time().replace(microsecond=0),
                                        days=EVERY_DAY, actions=[{"type": "device", "deviceId": str(lamp.pk),
                                                                  "state": {"isActive": True, "value": 60}}])
    due = schedule.next_run_at
    stack.worker()
    stack.beat()

    try:
        wait_until(lambda: simulated.commands_seen >= 1, timeout=40)
        run = wait_until(lambda: ScheduleRun.objects.filter(schedule=schedule).first(), timeout=10)
        command_id = run.outcomes[0]["devices"][0]["commandId"]
        wait_until(lambda: Command.objects.get(pk=command_id).status == "confirmed", timeout=10)
        # Another second of ticks fires nothing more.
        time.sleep(2)
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    assert ScheduleRun.objects.filter(schedule=schedule).count() == 1
    assert simulated.commands_seen == 1
    assert run.due_at == due and run.status == "on_time"
    assert datetime.timedelta(0) <= run.fired_at - due < datetime.timedelta(seconds=5)
    lamp.refresh_from_db()
    assert lamp.is_active is True and float(lamp.value) == 60.0
    schedule.refresh_from_db()
    assert schedule.next_run_at == due + datetime.timedelta(days=1)


def test_two_beats_and_a_worker_killed_mid_tick_fire_each_schedule_once(stack):
    homes = [f.make_home(name=f"Home {i}", timezone=zone)
             for i, zone in enumerate(["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"])]
    lamps = [f.DeviceFactory(room=f.RoomFactory(home=h), hub=f.HubFactory(home=h), type="light", category="Zigbee")
             for h in homes]
    due = timezone.now().replace(microsecond=0) + datetime.timedelta(seconds=3)
    schedules = [Schedule(home=home, name=f"S{n}", time=due.astimezone(home.tz).time(), days=EVERY_DAY,
                          next_run_at=due, actions=[{"type": "device", "deviceId": str(lamp.pk),
                                                     "state": {"isActive": True}}])
                 for home, lamp in zip(homes, lamps) for n in range(150)]
    Schedule.objects.bulk_create(schedules)
    total = len(schedules)
    first = stack.worker("worker-a")
    stack.beat("beat-a")
    stack.beat("beat-b")

    try:
        # Kill the first worker as soon as a batch has committed and the rest are still to come.
        wait_until(lambda: 0 < ScheduleRun.objects.count(), timeout=40, interval=0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = ScheduleRun.objects.count()
        stack.worker("worker-b")
        wait_until(lambda: ScheduleRun.objects.count() == total, timeout=60)
        time.sleep(3)
    except AssertionError:
        raise AssertionError(stack.logs()) from None

    assert killed_at < total, "the worker finished before it could be killed"
    assert ScheduleRun.objects.count() == total
    assert sorted(ScheduleRun.objects.values_list("schedule_id", flat=True)) == sorted(s.pk for s in schedules)
    assert Command.objects.count() == total
    assert set(ScheduleRun.objects.values_list("due_at", flat=True)) == {due}
    assert not Schedule.objects.filter(next_run_at__lte=due).exists()
