"""Device and group updates write only what they change, and a state report the listener
writes meanwhile survives a rename, in the database and in the event the rename publishes."""
import json

import pytest
from django.db import transaction

from devices.models import Device, DeviceGroupMember
from devices.services import device_update, group_update
from hubs.models import Hub
from tests import factories as f
from tests.conftest import client_for
from tests.events import capture_events, capture_writes, columns_set
from tests.races import (listener_lands_before_write, listener_waiting, listener_waiting_at_write, state_report,
                         status_report)


def lamp_event(lamp, *, name, is_active, value, reported: dict | None = None, reported_at=None) -> dict:
    """`device:update` of the fixture's lamp (a Zigbee light that had not reported before):
    its state is what was reported, with isActive and value as the row holds them."""
    data = {
        "deviceId": str(lamp.pk), "roomId": str(lamp.room_id), "hubId": str(lamp.hub_id), "name": name,
        "type": "light", "category": "Zigbee", "state": {**(reported or {}), "isActive": is_active, "value": value},
    }
    if reported_at is not None:
        data["reportedAt"] = reported_at.isoformat()
    return data


def report_event(lamp, *, name, reported: dict, ts) -> tuple:
    """The listener's `device:update` for a state report on the lamp."""
    value = float(reported["value"])
    return ("device:update", lamp_event(lamp, name=name, is_active=reported["isActive"], value=value,
                                        reported=reported, reported_at=ts))


def any_order(events):
    return sorted(events, key=lambda e: json.dumps(e, sort_keys=True))


@pytest.mark.django_db(transaction=True)
def test_rename_keeps_a_state_report_that_landed_after_the_device_was_loaded(world):
    lamp = world["lamp"]
    loaded = Device.objects.get(pk=lamp.pk)  # as the view loads it, before the service runs
    report = state_report(lamp, {"isActive": True, "value": 40})
    with capture_events(world["home"].pk) as events:
        with listener_lands_before_write("devices_device", [report]) as ran:
            device_update(device=loaded, name="Desk lamp")
    assert ran[0].applied == 1
    stored = Device.objects.get(pk=lamp.pk)
    assert (stored.name, stored.is_active, stored.value, stored.reported_at) == ("Desk lamp", True, 40, report.ts)
    assert stored.state == {"isActive": True, "value": 40}
    reported = {"isActive": True, "value": 40.0}
    assert events == [
        report_event(lamp, name="Lamp", reported=reported, ts=report.ts),
        ("device:update", lamp_event(lamp, name="Desk lamp", is_active=True, value=40.0, reported=reported)),
    ]


@pytest.mark.django_db(transaction=True)
def test_rename_through_the_api_keeps_a_state_report_that_landed_meanwhile(world):
    lamp, home = world["lamp"], world["home"]
    report = state_report(lamp, {"isActive": True, "value": 25})
    with capture_events(home.pk) as events:
        with listener_lands_before_write("devices_device", [report]):
            response = client_for(home.owner).patch(f"/api/homes/{home.pk}/devices/{lamp.pk}", {"name": "Desk lamp"},
                                                    format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["isActive"], body["value"], body["state"]) == (
        "Desk lamp", True, 25.0, {"isActive": True, "value": 25})
    stored = Device.objects.get(pk=lamp.pk)
    assert (stored.name, stored.is_active, stored.value) == ("Desk lamp", True, 25)
    assert [data["state"]["isActive"] for _, data in events] == [True, True]
    assert events[-1] == ("device:update", lamp_event(lamp, name="Desk lamp", is_active=True, value=25.0,
                                                      reported={"isActive": True, "value": 25.0}))


@pytest.mark.django_db(transaction=True)
def test_a_report_arriving_during_a_rename_waits_for_it_and_both_survive(world):
    lamp = world["lamp"]
    report = state_report(lamp, {"isActive": True, "value": 60})
    with capture_events(world["home"].pk) as events:
        with transaction.atomic():
            device_update(device=Device.objects.get(pk=lamp.pk), name="Desk lamp")
            with listener_waiting([report]) as done:
                pass  # the listener is blocked on the device row until this transaction commits
    assert done[0].applied == 1
    stored = Device.objects.get(pk=lamp.pk)
    assert (stored.name, stored.is_active, stored.value) == ("Desk lamp", True, 60)
    # The rename's event went out at its commit, the report's at the listener's: either may reach Redis first.
    assert any_order(events) == any_order([
        ("device:update", lamp_event(lamp, name="Desk lamp", is_active=False, value=None)),
        report_event(lamp, name="Desk lamp", reported={"isActive": True, "value": 60.0}, ts=report.ts),
    ])


@pytest.mark.django_db(transaction=True)
def test_moving_a_device_to_another_hub_while_both_hubs_report_does_not_deadlock(world):
    lamp, home = world["lamp"], world["home"]
    upstairs = f.HubFactory(home=home, status=Hub.Status.OFFLINE)
    # The listener's batch locks both hubs, then the lamp; the move locks the lamp and,
    # through the same-home key, the hub it moves to.
    reports = [status_report(upstairs, "online"), state_report(lamp, {"isActive": True, "value": 10})]
    with transaction.atomic():
        with listener_waiting_at_write("devices_device", reports) as done:
            device_update(device=Device.objects.get(pk=lamp.pk), hub=upstairs)
    outcome = done[0]
    # The report came from the lamp's old hub after the move: refused, as any report from a hub
    # the device is not on.
    assert (outcome.applied, dict(outcome.rejected)) == (1, {"device_not_on_hub": 1})
    stored = Device.objects.get(pk=lamp.pk)
    assert (stored.hub_id, stored.is_active) == (upstairs.pk, False)
    assert Hub.objects.get(pk=upstairs.pk).status == Hub.Status.ONLINE


@pytest.mark.django_db
def test_rename_writes_the_name_alone_and_publishes_one_exact_event(world):
    lamp = world["lamp"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        device_update(device=lamp, name="Desk lamp", unit="%")
    assert [columns_set(w) for w in writes] == [{"name", "unit", "updated_at"}]
    assert events == [("device:update", lamp_event(lamp, name="Desk lamp", is_active=False, value=None))]


@pytest.mark.django_db
def test_switching_a_device_on_from_the_api_publishes_one_exact_event(world):
    lamp = world["lamp"]
    with capture_events(world["home"].pk) as events:
        device_update(device=lamp, is_active=True)
    assert events == [("device:update", lamp_event(lamp, name="Lamp", is_active=True, value=None))]


@pytest.mark.django_db
def test_device_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    lamp = world["lamp"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        with django_assert_num_queries(3):  # savepoint, the row lock, release
            device_update(device=lamp, name="Lamp", is_active=False, room=world["living"])
    assert writes == [] and events == []


@pytest.mark.django_db
def test_group_rename_publishes_its_name_and_keeps_its_members(world):
    group = world["group"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        group_update(group=group, name="Living room")
    assert [columns_set(w) for w in writes] == [{"name", "updated_at"}]
    assert events == [("group:update", {"groupId": str(group.pk), "name": "Living room"})]


@pytest.mark.django_db
def test_group_members_change_publishes_the_new_members(world):
    group, tv = world["group"], world["tv"]
    with capture_events(world["home"].pk) as events:
        group_update(group=group, devices=[tv])
    assert events == [("group:update", {"groupId": str(group.pk), "name": "Group", "deviceIds": [str(tv.pk)]})]
    assert list(DeviceGroupMember.objects.filter(group=group).values_list("device_id", flat=True)) == [tv.pk]


@pytest.mark.django_db
def test_group_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    group = world["group"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        with django_assert_num_queries(3):  # savepoint, the members, release
            group_update(group=group, name="Group", devices=[world["tv"], world["lamp"]])
    assert writes == [] and events == []
