"""Every write of the REST API publishes its event to the home's feed, once it has committed."""
import json

import pytest

from realtime.events import last_event_id, log_key, sync_redis
from tests import factories as f
from tests.api_checks import ENDPOINTS

pytestmark = pytest.mark.django_db(transaction=True)

EXPECTED = {
    "device control": "command:status",
    "device learn": "learn:status",
    "budget set": "budget:update",
    "budget delete": "budget:update",
    "ingestion token issue": "device:ingestion-token",
    "ingestion token revoke": "device:ingestion-token",
    "home update": "home:update",
    "home delete": "home:deleted",
    "layout put": "home:layout",
    "hub rename": "hub:update",
    "hub rooms": "hub:rooms",
    "hub wifi": "hub:status",
    "hub unpair": "hub:unpaired",
    "hub delete (unpair)": "hub:unpaired",
}
WRITES = [e for e in ENDPOINTS if e.method != "get"]


def expected_event(name: str) -> str:
    """The event a write endpoint must publish: "<thing> create|update|delete", or listed above."""
    if name in EXPECTED:
        return EXPECTED[name]
    thing, change = name.split(" ")
    return f"{thing}:{ {'create': 'created', 'update': 'update', 'delete': 'deleted'}[change] }"


def history_since(home_id, after: int) -> list[dict]:
    entries = sync_redis().xrange(log_key(home_id), min=f"{after + 1}-0")
    return [json.loads(fields[b"e"]) for _, fields in entries]


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.name for e in WRITES])
def test_rest_write_publishes_its_event(endpoint, world, api):
    home_id = str(world["home"].pk)
    before = last_event_id(home_id)
    response = endpoint.call(api, world)
    assert response.status_code < 300, response.content
    events = history_since(home_id, before)
    assert expected_event(endpoint.name) in [e["event"] for e in events]
    assert all(e["homeId"] == home_id for e in events)


def test_membership_writes_publish_member_events(home, api):
    guest = f.UserFactory()
    before = last_event_id(home.pk)
    added = api.post(f"/api/homes/{home.pk}/members", {"email": guest.email, "role": "guest"}).json()
    api.patch(f"/api/homes/{home.pk}/members/{added['id']}", {"role": "member"})
    api.delete(f"/api/homes/{home.pk}/members/{added['id']}")
    events = history_since(home.pk, before)
    assert [(e["event"], e["data"]["userId"]) for e in events] == [
        ("member:added", str(guest.pk)), ("member:update", str(guest.pk)), ("member:removed", str(guest.pk)),
    ]
    assert [e["id"] for e in events] == list(range(before + 1, before + 4))


def test_failed_write_publishes_nothing(world, api):
    before = last_event_id(world["home"].pk)
    response = api.post(f"/api/homes/{world['home'].pk}/rooms", {"name": ""})
    assert response.status_code == 400
    assert history_since(world["home"].pk, before) == []
