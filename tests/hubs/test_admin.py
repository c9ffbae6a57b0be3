"""Support admin for hubs: found by serial number, factory secret never shown, devices listed."""
import pytest
from django.contrib.auth.hashers import make_password

from hubs.models import Hub
from hubs.services import hub_event
from tests.admin_support import change_form, seeded_agent
from tests.events import capture_events
from tests.races import listener_ingests, status_report

pytestmark = pytest.mark.django_db


def test_hub_found_by_serial_shows_rooms_and_devices_but_not_its_secret():
    agent = seeded_agent()
    hub = Hub.objects.get(serial_number="VH-DEMO-0001")
    hub.factory_secret_hash = make_password("factory-secret-of-this-hub")
    hub.save(update_fields=["factory_secret_hash"])

    found = agent.get("/admin/hubs/hub/", {"q": "VH-DEMO-0001"}).content.decode()
    assert f"/admin/hubs/hub/{hub.pk}/change/" in found and "Demo Home" in found

    page = agent.get(f"/admin/hubs/hub/{hub.pk}/change/").content.decode()
    assert "Living room" in page and "Bedroom" in page and "Air conditioner" in page
    assert hub.factory_secret_hash not in page and "factory_secret" not in page


def test_agent_renames_a_hub_and_cannot_move_it_to_another_home():
    agent = seeded_agent()
    hub = Hub.objects.get(serial_number="VH-DEMO-0001")
    url = f"/admin/hubs/hub/{hub.pk}/change/"
    response = agent.post(url, change_form(agent, url) | {"name": "Living room hub"})
    assert response.status_code == 302
    hub.refresh_from_db()
    assert hub.name == "Living room hub" and hub.home.name == "Demo Home"
    assert 'name="home"' not in agent.get(f"/admin/hubs/hub/{hub.pk}/change/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_agent_renaming_a_hub_keeps_the_status_it_reported_while_the_page_was_open():
    agent = seeded_agent()
    hub = Hub.objects.get(serial_number="VH-DEMO-0001")
    assert hub.status == Hub.Status.OFFLINE
    url = f"/admin/hubs/hub/{hub.pk}/change/"
    form = change_form(agent, url)
    assert listener_ingests([status_report(hub, "online")]).applied == 1
    form["name"] = "Hall hub"
    with capture_events(hub.home_id) as events:
        assert agent.post(url, form).status_code == 302
    stored = Hub.objects.get(pk=hub.pk)
    assert (stored.name, stored.status) == ("Hall hub", Hub.Status.ONLINE) and stored.last_seen_at is not None
    assert events == [("hub:update", hub_event(stored) | {"name": "Hall hub"})]
