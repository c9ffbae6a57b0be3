"""energy:update throttling over the real channel layer; rollup and retention tasks."""
import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.db import connection

from energy import live, rollups, services, tasks
from energy.points import ingest_points
from energy.timeseries import Point, read_range
from tests.events import capture_events

from .helpers import UTC, write_energy

ROOT = Path(__file__).resolve().parents[2]


def test_energy_update_is_throttled_per_home(world, settings):
    settings.ENERGY_UPDATE_THROTTLE_SECONDS = 30
    home, lamp, tv = world["home"], world["lamp"], world["tv"]
    live.forget(str(home.pk))
    now = datetime.datetime.now(UTC)
    with capture_events(home.pk) as events:
        for watts in (100.0, 200.0, 300.0):
            ingest_points(points=[
                Point("telemetry", str(home.pk), str(lamp.pk), now, {"power": watts}, str(lamp.room_id)),
                Point("telemetry", str(home.pk), str(tv.pk), now, {"power": 50.0}, str(tv.room_id)),
            ])
    # The live store keeps a POSIX timestamp: the event's time is that, read back.
    seen = datetime.datetime.fromtimestamp(now.timestamp(), UTC).isoformat()
    first = sorted([(str(lamp.pk), 100.0), (str(tv.pk), 50.0)])
    assert events == [("energy:update", {
        "homeId": str(home.pk), "currentPowerW": 150.0,
        "devices": [{"deviceId": device, "powerW": watts, "ts": seen} for device, watts in first],
    })]
    # The live figure keeps moving even while events are held back.
    assert live.snapshot(str(home.pk))["currentPowerW"] == 350.0


def test_rollups_are_incremental_and_rebuild_late_points(world):
    lamp = world["lamp"]
    start = datetime.datetime(2026, 7, 1, 10, tzinfo=UTC)
    write_energy(lamp, start, start + datetime.timedelta(hours=2), wh=1)
    assert rollups.run_pending() == 0  # nothing left to do
    # A late point for the first hour rebuilds only that hour's buckets (and its day).
    ingest_points(points=[Point("telemetry", str(lamp.home_id), str(lamp.pk), start + datetime.timedelta(minutes=3, seconds=30), {"energy": 100.0}, str(lamp.room_id))])
    assert tasks.rollup_pending() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT size, sum(sum), sum(count) FROM energy_rollup WHERE device_id = %s AND field = 'energy' GROUP BY size ORDER BY size", [lamp.pk])
        assert cursor.fetchall() == [("1d", 220.0, 121), ("1h", 220.0, 121), ("5m", 220.0, 121)]


def test_retention_drops_raw_points_but_keeps_rollups(world, settings):
    settings.ENERGY_RAW_RETENTION_DAYS = 30
    lamp = world["lamp"]
    now = datetime.datetime.now(UTC)
    old = now - datetime.timedelta(days=90)
    write_energy(lamp, old, old + datetime.timedelta(minutes=10), wh=5)
    write_energy(lamp, now - datetime.timedelta(minutes=10), now, wh=5)
    cutoff = services.drop_expired_readings(now=now)
    assert cutoff == now - datetime.timedelta(days=30)
    rows = read_range(home_id=str(lamp.home_id), start=old - datetime.timedelta(days=1), end=now + datetime.timedelta(minutes=1))
    assert len(rows) == 10 and min(r.ts for r in rows) >= cutoff
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(sum) FROM energy_rollup WHERE device_id = %s AND size = '1d'", [lamp.pk])
        assert cursor.fetchone()[0] == 100.0


def test_beat_schedule_is_registered_in_the_database(db):
    from django_celery_beat.models import PeriodicTask

    tasks_by_name = dict(PeriodicTask.objects.filter(task__startswith="energy.").values_list("task", "enabled"))
    assert tasks_by_name == {"energy.tasks.rollup_pending": True, "energy.tasks.drop_expired_readings": True}


def test_a_real_celery_worker_runs_the_rollup_task(transactional_db, settings):
    """Sent through the Redis broker, run by a worker process on the test database."""
    from tests import factories as f

    home = f.make_home(name="Worker home", timezone="Asia/Kolkata")
    device = f.DeviceFactory(room=f.RoomFactory(home=home))
    start = datetime.datetime(2026, 8, 1, 0, tzinfo=UTC)
    ingest_points(points=[Point("telemetry", str(home.pk), str(device.pk), start + datetime.timedelta(minutes=m), {"energy": 2.0}, str(device.room_id)) for m in range(90)])
    queue = f"h4-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_QUEUE": queue}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "veahome", "worker", "-Q", queue, "-c", "1", "--pool", "solo", "-l", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        tasks.rollup_pending.apply_async(queue=queue)
        for _ in range(300):
            with connection.cursor() as cursor:
                cursor.execute("SELECT bucket, sum FROM energy_rollup WHERE device_id = %s AND size = '1h' ORDER BY bucket", [device.pk])
                hours = cursor.fetchall()
            if hours:
                break
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    # Kolkata is UTC+5:30: local hours start at :30 UTC, so 90 minutes from 00:00 UTC touch three of them.
    assert [(b.astimezone(UTC).strftime("%H:%M"), s) for b, s in hours] == [("23:30", 60.0), ("00:30", 120.0)]


def _test_database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_deleting_a_home_schedules_and_purges_its_history(store, world, django_capture_on_commit_callbacks, settings):
    """The purge goes to the real Redis broker after commit; the task function then empties the home."""
    import json

    import redis

    lamp, home = world["lamp"], world["home"]
    start = datetime.datetime(2026, 9, 1, tzinfo=UTC)
    write_energy(lamp, start, start + datetime.timedelta(minutes=30))
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    home_id = str(home.pk)
    with django_capture_on_commit_callbacks(execute=True):
        home.delete()
    messages = [m for m in broker.lrange(queue, 0, -1) if home_id.encode() in m]
    assert [json.loads(m)["headers"]["task"] for m in messages] == ["energy.tasks.purge_home_history"]
    for message in messages:
        broker.lrem(queue, 1, message)  # run it here instead of leaving it to a worker
    tasks.purge_home_history(home_id)
    assert read_range(home_id=home_id, start=start, end=start + datetime.timedelta(hours=1)) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM energy_rollup WHERE home_id = %s", [home_id])
        assert cursor.fetchone()[0] == 0


def test_one_run_rolls_up_several_homes_in_their_own_time_zones(db):
    from tests import factories as f

    homes = [f.make_home(name="Tokyo", timezone="Asia/Tokyo"), f.make_home(name="New York", timezone="America/New_York")]
    devices = [f.DeviceFactory(room=f.RoomFactory(home=h)) for h in homes]
    start = datetime.datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # midnight in Tokyo, 10:00 in New York
    points = [Point("telemetry", str(d.home_id), str(d.pk), start + datetime.timedelta(minutes=m), {"energy": 1.0}, str(d.room_id))
              for d in devices for m in range(-60, 60)]
    points += [Point("telemetry", str(devices[1].home_id), str(devices[1].pk), start + datetime.timedelta(hours=5), {"energy": 7.0}, str(devices[1].room_id))]
    ingest_points(points=points)
    assert rollups.run_pending() == 5
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT home_id::text, bucket, sum FROM energy_rollup WHERE size = '1d' AND home_id = ANY(%s::uuid[]) ORDER BY 1, 2",
            [[str(h.pk) for h in homes]],
        )
        days = {(home, bucket.astimezone(UTC).isoformat(), total) for home, bucket, total in cursor.fetchall()}
    assert days == {
        (str(homes[0].pk), "2026-11-29T15:00:00+00:00", 60.0),  # Tokyo's 30 November
        (str(homes[0].pk), "2026-11-30T15:00:00+00:00", 60.0),  # Tokyo's 1 December
        (str(homes[1].pk), "2026-11-30T05:00:00+00:00", 127.0),  # New York's 30 November, two runs of hours
    }
