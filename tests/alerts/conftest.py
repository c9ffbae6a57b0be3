"""A home with a hub and its sensors, and reports put through the listener's ingest in this
process (what `mqtt_listen` does with a batch); the broker and feed fixtures of the ingest suite
for the end-to-end cases."""
import datetime
import json

import pytest

from hubs.ingest import messages, services as ingest
from hubs.mqtt import topics
from tests import factories as f
from tests.ingest.conftest import feed, listener, mosquitto, mqtt, sim_hub  # noqa: F401

UTC = datetime.UTC


@pytest.fixture
def place(home):
    room = f.RoomFactory(home=home, name="Kitchen")
    hub = f.HubFactory(home=home, name="Kitchen hub")
    return {
        "home": home, "hub": hub,
        "leak": f.DeviceFactory(room=room, hub=hub, name="Sink sensor", type="sensor", category="Sensor"),
        "smoke": f.DeviceFactory(room=room, hub=hub, name="Smoke detector", type="sensor", category="Sensor"),
    }


def telemetry(device, fields: dict, *, at: datetime.datetime | None = None) -> messages.Raw:
    body = {**fields, "ts": (at or datetime.datetime.now(UTC)).isoformat()}
    return messages.Raw(mid=1, qos=1, retain=False, topic=topics.device_report(str(device.hub_id), str(device.pk),
                                                                               "telemetry"),
                        payload=json.dumps(body).encode(), received_at=datetime.datetime.now(UTC))


def hub_status(hub, status: str, *, at: datetime.datetime | None = None) -> messages.Raw:
    body = {"status": status, "ts": (at or datetime.datetime.now(UTC)).isoformat()}
    return messages.Raw(mid=1, qos=1, retain=False, topic=topics.hub_status(str(hub.pk)),
                        payload=json.dumps(body).encode(), received_at=datetime.datetime.now(UTC))


def ingest_batch(raws: list[messages.Raw]):
    """One listener batch: parse each, ingest them in one transaction."""
    return ingest.ingest([messages.parse(raw) for raw in raws])
