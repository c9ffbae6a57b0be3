"""Hub report kinds are registered once (hubs/ingest/registry.py): the listener's
subscriptions, the topic parser and the dispatch all follow the registry."""
import datetime
import json

import pytest

from hubs.ingest import messages, registry, services
from hubs.mqtt import topics
from tests import factories as f


@pytest.fixture
def battery_kind():
    """A new hub -> cloud message, registered for the test the way a real one is."""
    seen = {"checked": [], "applied": []}

    def check(report):
        if not isinstance(report.body.get("percent"), int | float):
            raise messages.Rejected("bad_payload", "percent must be a number")
        seen["checked"].append(report.body["percent"])

    def apply(batch, report):
        batch.hub_seen(batch.hub_of(report))
        seen["applied"].append(report.body["percent"])
        return True

    registry.report_kind("battery", scope=registry.HUB, check=check)(apply)
    yield seen
    registry._KINDS.pop("battery")


def raw(topic, body) -> messages.Raw:
    return messages.Raw(mid=1, qos=1, retain=False, topic=topic, payload=json.dumps(body).encode(),
                        received_at=datetime.datetime.now(datetime.timezone.utc))


def test_the_contract_kinds_are_registered_with_their_topic_shapes():
    assert {name: kind.scope for name, kind in registry.kinds().items()} == {
        "state": "device", "telemetry": "device", "learned": "device", "status": "hub"}
    assert sorted(topics.subscriptions()) == sorted(
        ["hubs/+/devices/+/state", "hubs/+/devices/+/telemetry", "hubs/+/devices/+/learned", "hubs/+/status"])


def test_one_entry_adds_a_message_end_to_end(battery_kind, db):
    hub = f.HubFactory(home=f.make_home(f.UserFactory()))
    assert "hubs/+/battery" in topics.subscriptions()
    assert topics.parse(f"hubs/{hub.pk}/battery") == topics.Incoming("battery", str(hub.pk))
    assert topics.parse(f"hubs/{hub.pk}/devices/x/battery") is None  # a hub-scoped kind

    report = messages.parse(raw(f"hubs/{hub.pk}/battery", {"percent": 81}))
    outcome = services.ingest([report])

    assert (battery_kind["checked"], battery_kind["applied"], outcome.applied) == ([81], [81], 1)
    with pytest.raises(messages.Rejected, match="percent"):
        messages.parse(raw(f"hubs/{hub.pk}/battery", {"percent": "full"}))


def test_a_kind_is_registered_once(battery_kind):
    with pytest.raises(ValueError, match="twice"):
        registry.report_kind("battery", scope=registry.HUB, check=lambda r: None)(lambda b, r: True)
