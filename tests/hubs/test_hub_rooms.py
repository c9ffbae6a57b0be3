"""Hub room slots: at most two rooms of the hub's own home, enforced by the service and the database."""
import pytest
from django.db import IntegrityError, connection, transaction

from devices.models import Device
from hubs.models import HubRoom
from tests import factories as f


def assign(client, hub, rooms, method="post"):
    return getattr(client, method)(f"/api/hubs/{hub.pk}/rooms", {"roomIds": [str(r.pk) for r in rooms]}, format="json")


def test_assign_two_rooms_in_slot_order(api, world):
    hub, office = world["hub"], f.RoomFactory(home=world["home"], name="Office")
    response = assign(api, hub, [office, world["living"]], method="put")
    assert response.status_code == 200
    assert response.json()["roomIds"] == [str(office.pk), str(world["living"].pk)]
    assert [(s.slot, s.room) for s in HubRoom.objects.filter(hub=hub)] == [(1, office), (2, world["living"])]


def test_a_third_room_is_409_hub_room_limit(api, world):
    office = f.RoomFactory(home=world["home"])
    response = assign(api, world["hub"], [world["living"], world["kitchen"], office])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hub_room_limit"
    assert "roomIds" in response.json()["error"]["fields"]
    assert HubRoom.objects.filter(hub=world["hub"]).count() == 2


def test_a_room_of_another_home_is_400_naming_roomids(api, world):
    foreign = f.RoomFactory(home=f.make_home(name="Other"))
    response = assign(api, world["hub"], [foreign])
    assert response.status_code == 400
    assert any(key.startswith("roomIds") for key in response.json()["error"]["fields"])
    assert set(HubRoom.objects.filter(hub=world["hub"]).values_list("room", flat=True)) == {
        world["living"].pk, world["kitchen"].pk
    }


def test_the_same_room_twice_is_refused(api, world):
    response = assign(api, world["hub"], [world["living"], world["living"]])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "duplicate_room"


def test_an_empty_list_frees_the_hub(api, world):
    assert assign(api, world["hub"], []).json()["roomIds"] == []
    assert not HubRoom.objects.filter(hub=world["hub"]).exists()


def test_hub_status_shape(api, world):
    data = api.get(f"/api/hubs/{world['hub'].pk}/status").json()
    assert data["hubId"] == str(world["hub"].pk)
    assert data["status"] == "online"
    assert data["roomIds"] == [str(world["living"].pk), str(world["kitchen"].pk)]


def test_home_hub_list(api, world):
    data = api.get(f"/api/homes/{world['home'].pk}/hubs/").json()
    assert [h["id"] for h in data["results"]] == [str(world["hub"].pk)]


def test_member_cannot_assign_rooms(world, as_role):
    assert assign(as_role("member"), world["hub"], [world["living"]]).status_code == 403


# The database itself, below every service: raw ORM writes.


def check_deferred_constraints_now():
    """The same-home composite keys are deferred (for cascading deletes); make them fire here."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_database_refuses_a_third_slot(world):
    office = f.RoomFactory(home=world["home"])
    with pytest.raises(IntegrityError), transaction.atomic():
        HubRoom.objects.create(hub=world["hub"], room=office, home=world["home"], slot=3)


def test_database_refuses_a_second_room_in_a_taken_slot(world):
    office = f.RoomFactory(home=world["home"])
    with pytest.raises(IntegrityError), transaction.atomic():
        HubRoom.objects.create(hub=world["hub"], room=office, home=world["home"], slot=1)


def test_database_refuses_a_slot_with_a_room_of_another_home(world):
    hub = f.HubFactory(home=world["home"])
    foreign = f.RoomFactory(home=f.make_home(name="Other"))
    with pytest.raises(IntegrityError), transaction.atomic():
        HubRoom.objects.create(hub=hub, room=foreign, home=world["home"], slot=1)
        check_deferred_constraints_now()


def test_database_refuses_a_slot_claiming_another_homes_hub(world):
    other = f.make_home(name="Other")
    foreign_hub = f.HubFactory(home=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        HubRoom.objects.create(hub=foreign_hub, room=world["living"], home=world["home"], slot=1)
        check_deferred_constraints_now()


def test_database_refuses_a_device_in_a_room_of_another_home(world):
    foreign = f.RoomFactory(home=f.make_home(name="Other"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(home=world["home"], room=foreign, name="x", type="light", category="Zigbee")
        check_deferred_constraints_now()


def test_database_refuses_a_device_on_a_hub_of_another_home(world):
    foreign_hub = f.HubFactory(home=f.make_home(name="Other"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.filter(pk=world["lamp"].pk).update(hub=foreign_hub)
        check_deferred_constraints_now()
