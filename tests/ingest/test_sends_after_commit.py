"""Cloud -> hub messages leave after the transaction that records them commits, once per key
(hubs/mqtt/publisher.send_after_commit), against a real broker."""
import json
import queue
import time
import uuid

import paho.mqtt.client as paho
import pytest
from django.db import transaction

from devices.models import Command, LearnSession
from devices.services import device_control, learn_start
from hubs.mqtt import publisher, topics
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


class Subscriber:
    """A hub's side of the broker: every message on `pattern`, in order."""

    def __init__(self, port: int, pattern: str):
        self.messages: queue.Queue = queue.Queue()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"sub-{uuid.uuid4().hex[:8]}",
                                  protocol=paho.MQTTv311)
        subscribed = queue.Queue()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *a: subscribed.put(True)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(pattern, qos=1)
        subscribed.get(timeout=5)

    def take(self, count: int, timeout: float = 5.0) -> list:
        return [self.messages.get(timeout=timeout) for _ in range(count)]

    def quiet(self, seconds: float = 0.3) -> bool:
        time.sleep(seconds)
        return self.messages.empty()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def hub_side(mqtt):
    opened = []

    def open_(pattern):
        sub = Subscriber(mqtt.port, pattern)
        opened.append(sub)
        return sub

    yield open_
    for sub in opened:
        sub.close()


@pytest.fixture
def lamps(home):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    return hub, [f.DeviceFactory(room=room, hub=hub, name=f"Lamp {i}", type="light", category="Zigbee")
                 for i in range(20)]


def test_twenty_commands_from_one_transaction_leave_when_it_commits(mqtt, hub_side, lamps):
    hub, devices = lamps
    sub = hub_side(topics.device_control(hub.pk, "+"))

    with transaction.atomic():
        commands = [device_control(device=d, request={"isActive": True}) for d in devices]
        assert all(c.status == "pending" for c in commands)
        assert sub.quiet(), "a command left before its transaction committed"

    received = sub.take(20)
    assert sorted(p["commandId"] for _, p in received) == sorted(str(c.pk) for c in commands)
    assert {t for t, _ in received} == {topics.device_control(hub.pk, d.pk) for d in devices}
    assert set(Command.objects.values_list("status", flat=True)) == {"sent"}
    assert sub.quiet()


def test_a_rolled_back_transaction_sends_nothing(mqtt, hub_side, lamps):
    hub, devices = lamps
    sub = hub_side(topics.device_control(hub.pk, "+"))

    with pytest.raises(RuntimeError), transaction.atomic():
        device_control(device=devices[0], request={"isActive": True})
        raise RuntimeError("the scene failed half way")

    assert sub.quiet(0.5)
    assert not Command.objects.exists()


def test_a_key_is_sent_once(mqtt, hub_side):
    topic = topics.device_control(uuid.uuid4(), uuid.uuid4())
    sub = hub_side(topic)
    key = f"command:{uuid.uuid4()}"

    first = publisher.send_after_commit(key=key, topic=topic, payload={"n": 1})
    with transaction.atomic():
        again = publisher.send_after_commit(key=key, topic=topic, payload={"n": 2})

    assert (first.status, again.status) == ("sent", "duplicate")
    assert sub.take(1) == [(topic, {"n": 1})]
    assert sub.quiet()


def test_a_failed_send_can_be_retried(mqtt, settings, hub_side):
    topic = topics.device_control(uuid.uuid4(), uuid.uuid4())
    key = f"command:{uuid.uuid4()}"
    broker_url = settings.MQTT_URL
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens on port 1
    publisher.reset()
    failures = []
    failed = publisher.send_after_commit(key=key, topic=topic, payload={}, on_failed=failures.append)
    assert failed.status == "failed" and isinstance(failures[0], OSError | publisher.PublishError)

    settings.MQTT_URL = broker_url
    publisher.reset()
    sub = hub_side(topic)
    assert publisher.send_after_commit(key=key, topic=topic, payload={"retry": True}).status == "sent"
    assert sub.take(1) == [(topic, {"retry": True})]


def test_a_learning_request_leaves_after_its_session_commits(mqtt, hub_side, home):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    tv = f.DeviceFactory(room=room, hub=hub, type="tv", category="IR")
    sub = hub_side(topics.device_learn(hub.pk, tv.pk))

    with transaction.atomic():
        session = learn_start(device=tv, hub=hub, action="POWER")
        assert sub.quiet()

    assert sub.take(1) == [(topics.device_learn(hub.pk, tv.pk), {"sessionId": str(session.pk), "action": "POWER"})]
    assert LearnSession.objects.get().status == "open"


def test_broker_down_fails_the_learning_session_with_a_503(mqtt, settings, home, feed):
    from veahome.errors import ApplicationError

    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    tv = f.DeviceFactory(room=room, hub=hub, type="tv", category="IR")
    live = feed(home.pk)
    settings.MQTT_URL = "mqtt://127.0.0.1:1"
    publisher.reset()

    with pytest.raises(ApplicationError) as error:
        learn_start(device=tv, hub=hub, action="POWER")

    assert (error.value.code, error.value.status_code) == ("hub_unreachable", 503)
    session = LearnSession.objects.get()
    assert session.status == "failed"
    live.wait_for("learn:status", sessionId=str(session.pk), status="failed")
