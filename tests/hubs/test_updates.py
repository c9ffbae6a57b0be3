"""Hub writes touch only their own columns: the status and last sign of life the listener
records survive a rename, and unpairing writes what unpairing changes."""
import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hubs.models import Hub
from hubs.services import hub_unpair, hub_update
from tests import factories as f
from tests.conftest import client_for
from tests.events import capture_events, capture_writes, columns_set
from tests.races import listener_lands_before_write, status_report


def hub_fields(hub: Hub) -> dict:
    return {"hubId": str(hub.pk), "status": hub.status, "wifiConnected": hub.wifi_connected,
            "lastSeenAt": hub.last_seen_at.isoformat() if hub.last_seen_at else None}


@pytest.mark.django_db(transaction=True)
def test_rename_keeps_the_status_the_listener_wrote_after_the_hub_was_loaded(home):
    hub = f.HubFactory(home=home, status=Hub.Status.OFFLINE, name="Hall")
    with capture_events(home.pk) as events:
        with listener_lands_before_write("hubs_hub", [status_report(hub, "online")]) as ran:
            response = client_for(home.owner).patch(f"/api/hubs/{hub.pk}", {"name": "Upstairs"}, format="json")
    assert response.status_code == 200, response.content
    assert ran[0].applied == 1
    stored = Hub.objects.get(pk=hub.pk)
    assert (stored.name, stored.status) == ("Upstairs", Hub.Status.ONLINE)
    assert stored.last_seen_at is not None
    body = response.json()
    assert (body["name"], body["status"], parse_datetime(body["lastSeenAt"])) == ("Upstairs", "online",
                                                                                stored.last_seen_at)
    assert events == [
        ("hub:status", hub_fields(stored)),
        ("hub:update", hub_fields(stored) | {"name": "Upstairs"}),
    ]


@pytest.mark.django_db(transaction=True)
def test_rename_by_the_service_keeps_a_hub_that_went_offline_meanwhile(home):
    hub = f.HubFactory(home=home, name="Hall")
    loaded = Hub.objects.get(pk=hub.pk)
    with listener_lands_before_write("hubs_hub", [status_report(hub, "offline")]):
        hub_update(hub=loaded, name="Upstairs")
    stored = Hub.objects.get(pk=hub.pk)
    assert (stored.name, stored.status) == ("Upstairs", Hub.Status.OFFLINE)
    assert (loaded.status, loaded.last_seen_at) == (stored.status, stored.last_seen_at)


@pytest.mark.django_db
def test_hub_rename_writes_the_name_alone(home):
    hub = f.HubFactory(home=home, name="Hall")
    with capture_events(home.pk) as events, capture_writes() as writes:
        hub_update(hub=hub, name="Upstairs")
    assert [columns_set(w) for w in writes] == [{"name", "updated_at"}]
    assert events == [("hub:update", hub_fields(hub) | {"name": "Upstairs"})]


@pytest.mark.django_db
def test_hub_update_that_changes_nothing_writes_and_publishes_nothing(home, django_assert_num_queries):
    hub = f.HubFactory(home=home, name="Hall")
    with capture_events(home.pk) as events, capture_writes() as writes:
        with django_assert_num_queries(3):  # savepoint, the row lock, release
            hub_update(hub=hub, name="Hall")
    assert writes == [] and events == []


@pytest.mark.django_db
def test_unpairing_writes_only_what_unpairing_changes(world):
    hub = world["hub"]
    seen = timezone.now()
    Hub.objects.filter(pk=hub.pk).update(wifi_ssid="Casa", wifi_connected=True, firmware="1.4.2", last_seen_at=seen,
                                         paired_at=seen, mqtt_topic=f"hubs/{hub.pk}")
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        hub_unpair(hub=hub)
    # Never paired to the broker (no account), so no credentials to clear.
    assert [columns_set(w) for w in writes if w.startswith('UPDATE "hubs_hub"')] == [
        {"home_id", "status", "paired_at", "mqtt_topic", "wifi_ssid", "wifi_connected", "updated_at"}]
    stored = Hub.objects.get(pk=hub.pk)
    assert (stored.home_id, stored.status, stored.firmware, stored.last_seen_at) == (None, "unpaired", "1.4.2", seen)
    assert [(name, data | {"deviceIds": sorted(data["deviceIds"])}) for name, data in events] == [
        ("hub:unpaired", {"hubId": str(hub.pk), "deviceIds": sorted([str(world["lamp"].pk), str(world["tv"].pk)])})]
