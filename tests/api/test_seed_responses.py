"""Every handler of the seed answers with the seed's fields (000_*.txt, src/handlers/*):
an app written against the seed finds each of them, with the seed's types.

Extra fields may follow; a seed field missing or of another type fails here.
"""
from uuid import UUID

import pytest

from hubs.models import Hub
from tests import factories as f
from tests.mqtt_broker import broker, dynsec_broker  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

uuid, text, nullable_uuid = "uuid", str, "uuid|null"
ID_NAME = [{"id": uuid, "name": text}]

SEED = {
    # handler: (expected status, the seed's response fields)
    "auth/register": (201, {"token": text, "user": {"id": uuid, "name": text, "email": text, "homeId": uuid},
                            "homes": ID_NAME}),
    "auth/login": (200, {"token": text, "user": {"id": uuid, "name": text, "email": text, "homeId": nullable_uuid},
                         "homes": ID_NAME}),
    "auth/me": (200, {"user": {"id": uuid, "name": text, "email": text, "plan": text, "homeId": nullable_uuid},
                      "homes": ID_NAME}),
    "hubs/pairHub": (201, {"hubId": uuid, "status": text, "mqttTopic": text}),
    "hubs/connectWifi": (200, {"message": text, "status": text}),
    "devices/controlDevice": (200, {"message": text, "deviceId": uuid}),
}


def conforms(value, shape, path="") -> list[str]:
    """What in `value` departs from the seed's `shape` (empty when nothing does)."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path or 'body'}: not an object"]
        problems = []
        for key, sub in shape.items():
            if key not in value:
                problems.append(f"{path}{key}: missing")
            else:
                problems += conforms(value[key], sub, f"{path}{key}.")
        return problems
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{path.rstrip('.')}: not a non-empty list"]
        return [p for i, item in enumerate(value) for p in conforms(item, shape[0], f"{path}{i}.")]
    where = path.rstrip(".")
    if shape in (uuid, nullable_uuid):
        if value is None and shape == nullable_uuid:
            return []
        try:
            UUID(str(value))
        except ValueError:
            return [f"{where}: {value!r} is not a uuid"]
        return []
    return [] if isinstance(value, shape) else [f"{where}: {type(value).__name__}, not {shape.__name__}"]


@pytest.fixture
def answers(anon, api, owner, home, broker):  # noqa: F811
    """Each seed handler called as the seed's app calls it."""
    room = f.RoomFactory(home=home)
    new_hub = f.claimable(f.HubFactory(home=None, status=Hub.Status.UNPAIRED))
    # The seed's bare VEAHUB-<serial> code pairs while the hub's claim window is open.
    assert anon.post("/api/hub/claim-window", {"serial": new_hub.serial_number, "factorySecret": f.FACTORY_SECRET},
                     format="json").status_code == 200
    paired = f.HubFactory(home=home, status=Hub.Status.ONLINE)
    lamp = f.DeviceFactory(room=room, hub=paired, type="light", category="Zigbee")
    return {
        "auth/register": anon.post("/api/auth/register", {"name": "Ada", "email": "ada@example.com",
                                                          "password": "password123"}, format="json"),
        "auth/login": anon.post("/api/auth/login", {"email": owner.email, "password": f.PASSWORD}, format="json"),
        "auth/me": api.get("/api/auth/me"),
        "hubs/pairHub": api.post("/api/hub/pair", {"qrCode": f"VEAHUB-{new_hub.serial_number}",
                                                   "homeId": str(home.pk)}, format="json"),
        "hubs/connectWifi": api.post(f"/api/hubs/{paired.pk}/wifi", {"ssid": "Casa", "password": "password123"},
                                     format="json"),
        "devices/controlDevice": api.put(f"/api/homes/{home.pk}/devices/{lamp.pk}/control",
                                         {"isActive": True, "value": 50}, format="json"),
    }


def test_every_seed_handler_answers_with_the_seeds_fields(answers):
    problems = {}
    for handler, (expected_status, shape) in SEED.items():
        response = answers[handler]
        found = [] if response.status_code == expected_status else [f"status {response.status_code}: {response.content[:200]!r}"]
        found += conforms(response.json(), shape) if not found else []
        if found:
            problems[handler] = found
    assert problems == {}


def test_the_checker_notices_a_missing_or_mistyped_field():
    shape = SEED["hubs/pairHub"][1]
    assert conforms({"id": "2f0b5bbd-6f9a-4c8e-9f3e-0d1c2b3a4f5e", "status": "pairing", "mqttTopic": "hubs/x"},
                    shape) == ["hubId: missing"]
    assert conforms({"hubId": "x", "status": 1, "mqttTopic": "t"}, shape) == [
        "hubId: 'x' is not a uuid", "status: int, not str"]
