"""Against the project's own broker configuration (dynamic security, per-hub accounts): the
listener's shared subscriptions pass the backend's ACL and a simulated hub works with the
credentials provisioning gave it."""
import threading
import uuid

import pytest

from devices.models import Command
from hubs.ingest.listener import Listener
from hubs.simulator import fleet
from tests import factories as f
from tests.mqtt_broker import broker, dynsec_broker  # noqa: F401  (fixtures)

from .conftest import wait_until

SHARED = "veahome"
pytestmark = pytest.mark.django_db(transaction=True)


def test_provisioned_simulated_hub_round_trip_through_shared_subscription(api, home, broker, settings):  # noqa: F811
    settings.HUB_PROVISION_THROTTLE_RATE = "100000/min"
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home, status="offline")
    lamp = f.DeviceFactory(room=room, hub=hub, type="light", category="Zigbee")
    listener = Listener(url=broker.backend_url, client_id=f"listen-{uuid.uuid4().hex[:8]}", shared_group=SHARED)
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    [simulated] = fleet.build([hub], answer_rate=1.0)
    assert simulated.client._username is not None  # provisioned, not anonymous
    simulated.start()
    try:
        assert listener.subscribed.wait(10), "the backend's ACL refused the shared subscriptions"
        assert simulated.connected.wait(10), "the hub's provisioned credentials were refused"
        wait_until(lambda: type(hub).objects.get(pk=hub.pk).status == "online")

        response = api.put(f"/api/homes/{home.pk}/devices/{lamp.pk}/control", {"value": 30}, format="json")

        assert response.status_code == 200, response.content
        wait_until(lambda: Command.objects.get(pk=response.json()["commandId"]).status == "confirmed")
        lamp.refresh_from_db()
        assert float(lamp.value) == 30.0
    finally:
        simulated.stop()
        listener.stop()
        thread.join(10)
