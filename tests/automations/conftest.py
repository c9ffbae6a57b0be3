"""Scenes, schedules and automations send through the hub link: the same broker, listener,
simulated hubs and feed as the ingest suite; `place` is the engine suites' hall."""
import pytest

from tests import factories as f
from tests.ingest.conftest import feed, listener, mosquitto, mqtt, sim_hub  # noqa: F401


@pytest.fixture
def place(home):
    room = f.RoomFactory(home=home, name="Hall")
    hub = f.HubFactory(home=home)
    return {
        "home": home, "hub": hub,
        "lamp": f.DeviceFactory(room=room, hub=hub, name="Lamp", type="light", category="Zigbee"),
        "porch": f.DeviceFactory(room=room, hub=hub, name="Porch", type="light", category="Zigbee"),
        "motion": f.DeviceFactory(room=room, hub=hub, name="Motion", type="sensor", category="Sensor"),
    }
