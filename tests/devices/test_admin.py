"""Support admin for devices: each device links to its home, room and hub."""
import pytest

from devices.models import Device
from devices.services import device_event
from tests.admin_support import change_form, seeded_agent
from tests.events import capture_events, capture_writes
from tests.races import listener_ingests, state_report

pytestmark = pytest.mark.django_db


def test_device_page_links_to_home_room_and_hub():
    agent = seeded_agent()
    tv = Device.objects.select_related("home", "room", "hub").get(name="TV")
    page = agent.get(f"/admin/devices/device/{tv.pk}/change/").content.decode()
    assert f'href="/admin/homes/home/{tv.home_id}/change/"' in page
    assert f'href="/admin/homes/room/{tv.room_id}/change/"' in page
    assert f'href="/admin/hubs/hub/{tv.hub_id}/change/"' in page
    assert "VH-DEMO-0001" in page and "VOL_UP" in page  # learned IR signals are visible


def test_device_list_searches_by_hub_serial_and_filters_by_category(django_assert_max_num_queries):
    agent = seeded_agent()
    with django_assert_max_num_queries(12):
        page = agent.get("/admin/devices/device/", {"q": "VH-DEMO-0001", "category__exact": "IR"}).content.decode()
    shown = {d.name for d in Device.objects.all() if f"/admin/devices/device/{d.pk}/change/" in page}
    assert shown == {"TV", "Air conditioner"}


def test_agent_switching_a_device_off_goes_through_the_service():
    agent = seeded_agent()
    light = Device.objects.get(name="Ceiling light")
    assert light.is_active
    url = f"/admin/devices/device/{light.pk}/change/"
    form = change_form(agent, url)
    assert form.pop("is_active") == "on"
    response = agent.post(url, form)
    assert response.status_code == 302
    light.refresh_from_db()
    assert light.is_active is False and light.name == "Ceiling light"


def test_group_page_lists_its_devices():
    agent = seeded_agent()
    page = agent.get("/admin/devices/devicegroup/").content.decode()
    assert "Living room lights" in page and "Bedroom covers" in page


def test_command_history_is_searchable_by_owner_and_read_only():
    from devices.models import Command

    agent = seeded_agent()
    light = Device.objects.select_related("home__owner").get(name="Ceiling light")
    command = Command.objects.create(home=light.home, device=light, hub=light.hub, desired_state={"isActive": False},
                                     status=Command.Status.EXPIRED)
    page = agent.get("/admin/devices/command/", {"q": light.home.owner.email, "status__exact": "expired"}).content.decode()
    assert f"/admin/devices/command/{command.pk}/change/" in page and "Ceiling light" in page
    detail = agent.get(f"/admin/devices/command/{command.pk}/change/").content.decode()
    assert "expired" in detail.lower() and 'name="_save"' not in detail  # view only
    assert agent.get("/admin/devices/command/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_agent_renaming_a_device_keeps_the_state_it_reported_while_the_page_was_open():
    agent = seeded_agent()
    light = Device.objects.get(name="Ceiling light")
    url = f"/admin/devices/device/{light.pk}/change/"
    form = change_form(agent, url)  # the page shows the light on, at 80 %
    assert (form["is_active"], form["value"]) == ("on", "80.00")
    report = state_report(light, {"isActive": False, "value": 0})
    assert listener_ingests([report]).applied == 1
    form["name"] = "Hall light"
    with capture_events(light.home_id) as events:
        assert agent.post(url, form).status_code == 302
    stored = Device.objects.get(pk=light.pk)
    assert (stored.name, stored.is_active, stored.value, stored.reported_at) == ("Hall light", False, 0, report.ts)
    assert events == [("device:update", device_event(stored))]
    assert events[0][1]["state"] == {"isActive": False, "value": 0.0}


def test_saving_a_device_page_unchanged_writes_and_publishes_nothing():
    agent = seeded_agent()
    light = Device.objects.get(name="Ceiling light")
    url = f"/admin/devices/device/{light.pk}/change/"
    form = change_form(agent, url)
    with capture_events(light.home_id) as events, capture_writes() as writes:
        assert agent.post(url, form).status_code == 302
    # The admin's own record of the save is the only row written.
    assert [w.split('"')[1] for w in writes] == ["django_admin_log"]
    assert events == []
