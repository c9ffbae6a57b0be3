"""A hub that was offline sends its buffered telemetry after reconnecting: older than what
was received since, stored once each and counted in energy (docs/mqtt.md 15.4)."""
import datetime
import json

import paho.mqtt.client as paho
import pytest

from energy import live, rollups
from hubs.mqtt import topics
from tests import factories as f

from .conftest import HOST, history, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
UTC = datetime.timezone.utc


@pytest.fixture
def lamp(home):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    return f.DeviceFactory(room=room, hub=hub, type="light", category="Zigbee")


@pytest.fixture
def hub_client(mqtt, lamp):
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="buffering-hub", protocol=paho.MQTTv311)
    client.connect(HOST, mqtt.port)
    client.loop_start()
    topic = topics.device_report(lamp.hub_id, lamp.pk, "telemetry")

    def send(ts: str, **fields):
        client.publish(topic, json.dumps({"ts": ts, **fields}), qos=1).wait_for_publish(5)

    yield send
    client.disconnect()
    client.loop_stop()


def at(hour, minute=0) -> str:
    """`hour` hours (and minutes) into the last two: at(2) is this minute, at(1) an hour ago."""
    now = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
    return (now - datetime.timedelta(hours=2) + datetime.timedelta(hours=hour, minutes=minute)).isoformat()


def test_buffered_readings_are_stored_once_and_counted(lamp, listener, hub_client, home):
    running = listener()
    hub_client(at(2), power=40.0, energy=10.0)            # received live
    wait_until(lambda: running.stats["applied"] == 1)

    hub_client(at(1), power=30.0, energy=5.0)             # the buffer, older than the live one
    hub_client(at(1, 30), power=35.0, energy=7.0)
    hub_client(at(1, 30), power=35.0, energy=7.0)         # sent twice (a resend after a drop)
    wait_until(lambda: running.stats["applied"] + running.stats["duplicates"] == 4)

    assert (running.stats["applied"], running.stats["duplicates"]) == (3, 1)
    stored = history(home, measurement="telemetry", field="energy", device=lamp)
    assert sorted((r.ts.isoformat(), r.value) for r in stored) == sorted(
        [(at(1), 5.0), (at(1, 30), 7.0), (at(2), 10.0)])

    lamp.refresh_from_db()
    assert lamp.telemetry_at.isoformat() == at(2)  # the newest reading keeps its mark
    assert live.current_power(str(home.pk))[str(lamp.pk)][1] == 40.0

    rollups.run_all_pending()
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT sum(sum) FROM energy_rollup WHERE size = '5m' AND device_id = %s AND field = 'energy'",
                       [lamp.pk])
        assert cursor.fetchone()[0] == pytest.approx(22.0)


def test_the_same_buffer_sent_again_after_a_restart_changes_nothing(lamp, listener, hub_client, home):
    running = listener()
    hub_client(at(2), energy=10.0)
    hub_client(at(1), energy=5.0)
    wait_until(lambda: running.stats["applied"] == 2)
    running.stop()

    again = listener()
    hub_client(at(1), energy=5.0)
    wait_until(lambda: again.stats["duplicates"] == 1)
    assert len(history(home, measurement="telemetry", field="energy", device=lamp)) == 2


def test_readings_older_than_the_retention_are_refused(lamp, listener, hub_client, home, settings):
    settings.ENERGY_RAW_RETENTION_DAYS = 1
    running = listener()
    hub_client(at(2), energy=10.0)
    hub_client((datetime.datetime.now(UTC) - datetime.timedelta(days=3)).isoformat(), energy=5.0)
    wait_until(lambda: running.stats["applied"] + running.stats["rejected.too_old"] == 2)
    assert running.stats["rejected.too_old"] == 1
