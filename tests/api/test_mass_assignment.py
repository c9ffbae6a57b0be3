"""No field in a body lets a client move an object to another home, take over a user, or forge state."""
import pytest

from devices.models import Device
from homes.models import Home, Membership, Room, User
from hubs.models import Hub
from tests import factories as f

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def victim(db):
    user = f.UserFactory(name="Victim")
    home = f.make_home(user, name="Victim home")
    return {"user": user, "home": home, "room": f.RoomFactory(home=home)}


def forged(victim, extra=None):
    return {
        "id": UNKNOWN,
        "home": str(victim["home"].pk),
        "homeId": str(victim["home"].pk),
        "owner": str(victim["user"].pk),
        "ownerId": str(victim["user"].pk),
        "userId": str(victim["user"].pk),
        "role": "owner",
        "createdAt": "2000-01-01T00:00:00Z",
        **(extra or {}),
    }


def test_device_create_stays_in_the_url_home_with_a_server_id(api, world, victim):
    body = forged(victim, {"name": "Lamp", "type": "light", "category": "Zigbee", "roomId": str(world["living"].pk),
                           "state": {"isActive": True}, "reportedAt": "2030-01-01T00:00:00Z"})
    response = api.post(f"/api/homes/{world['home'].pk}/devices", body, format="json")
    assert response.status_code == 201
    device = Device.objects.get(pk=response.json()["id"])
    assert str(device.pk) != UNKNOWN
    assert device.home == world["home"]
    assert device.state == {} and device.reported_at is None
    assert device.created_at.year > 2000


def test_device_update_cannot_move_home_or_forge_reported_state(api, world, victim):
    lamp = world["lamp"]
    body = forged(victim, {"state": {"isActive": True}, "reportedAt": "2030-01-01T00:00:00Z"})
    assert api.patch(f"/api/homes/{world['home'].pk}/devices/{lamp.pk}", body, format="json").status_code == 200
    lamp.refresh_from_db()
    assert lamp.home == world["home"] and lamp.state == {} and lamp.reported_at is None
    assert Device.objects.filter(pk=UNKNOWN).count() == 0


def test_home_create_is_owned_by_the_caller(api, owner, victim):
    response = api.post("/api/homes", forged(victim, {"name": "Mine", "layout": {"x": 1}}), format="json")
    assert response.status_code == 201
    home = Home.objects.get(pk=response.json()["id"])
    assert home.owner == owner and home.layout == {}
    assert Membership.objects.get(home=home).user == owner
    assert not Membership.objects.filter(home=victim["home"], user=owner).exists()


def test_home_update_cannot_change_owner_or_layout(api, world, owner, victim):
    response = api.patch(f"/api/homes/{world['home'].pk}", forged(victim, {"layout": {"a": 1}}), format="json")
    assert response.status_code == 200
    home = Home.objects.get(pk=world["home"].pk)
    assert home.owner == owner and home.layout == {}


def test_room_create_and_update_stay_in_the_url_home(api, world, victim):
    created = api.post(f"/api/homes/{world['home'].pk}/rooms", forged(victim, {"name": "Office"}), format="json")
    assert created.status_code == 201
    assert Room.objects.get(pk=created.json()["id"]).home == world["home"]
    api.patch(f"/api/homes/{world['home'].pk}/rooms/{world['living'].pk}", forged(victim), format="json")
    assert Room.objects.get(pk=world["living"].pk).home == world["home"]
    assert victim["room"].home == victim["home"] and Room.objects.filter(home=victim["home"]).count() == 1


def test_hub_rename_cannot_change_home_status_or_serial(api, world, victim):
    hub = world["hub"]
    body = forged(victim, {"name": "Attic", "status": "offline", "serialNumber": "STOLEN", "mqttTopic": "x/#"})
    assert api.patch(f"/api/hubs/{hub.pk}", body, format="json").status_code == 200
    hub = Hub.objects.get(pk=hub.pk)
    assert (hub.name, hub.home, hub.status, hub.mqtt_topic) == ("Attic", world["home"], "online", "")
    assert hub.serial_number != "STOLEN"


def test_member_invite_cannot_grant_owner_or_change_user(api, world, victim):
    response = api.post(
        f"/api/homes/{world['home'].pk}/members",
        forged(victim, {"email": victim["user"].email, "role": "owner"}),
        format="json",
    )
    assert response.status_code == 400 and "role" in response.json()["error"]["fields"]
    assert not Membership.objects.filter(home=world["home"], user=victim["user"]).exists()


def test_member_update_cannot_swap_the_user(api, world, victim):
    guest = f.add_member(world["home"], role="guest")
    membership = Membership.objects.get(home=world["home"], user=guest)
    body = {"role": "member", "userId": str(victim["user"].pk), "user": str(victim["user"].pk), "home": str(victim["home"].pk)}
    assert api.patch(f"/api/homes/{world['home'].pk}/members/{membership.pk}", body, format="json").status_code == 200
    membership.refresh_from_db()
    assert (membership.user, membership.home, membership.role) == (guest, world["home"], "member")


def test_register_cannot_make_staff_or_premium(anon, db):
    body = {"name": "Eve", "email": "eve@example.com", "password": "password123", "isStaff": True,
            "isSuperuser": True, "plan": "premium", "id": UNKNOWN}
    assert anon.post("/api/auth/register", body, format="json").status_code == 201
    eve = User.objects.get(email="eve@example.com")
    assert not eve.is_staff and not eve.is_superuser and eve.plan == "free" and str(eve.pk) != UNKNOWN


@pytest.mark.parametrize("kind", ["scenes", "schedules", "automations", "device-groups"])
def test_documents_stay_in_the_url_home(api, world, victim, kind):
    lamp, scene = str(world["lamp"].pk), str(world["scene"].pk)
    bodies = {
        "scenes": {"name": "S", "deviceStates": {lamp: {"isActive": True}}, "isActive": True},
        "schedules": {"name": "S", "time": "07:00", "days": ["monday"], "actions": [{"type": "scene", "sceneId": scene}],
                      "nextRunAt": "2000-01-01T00:00:00Z", "lastRunAt": "2000-01-01T00:00:00Z"},
        "automations": {"name": "A", "trigger": {"type": "time", "at": "07:00"}, "actions": [{"type": "scene", "sceneId": scene}]},
        "device-groups": {"name": "G", "deviceIds": [lamp]},
    }
    response = api.post(f"/api/homes/{world['home'].pk}/{kind}", forged(victim, bodies[kind]), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["id"] != UNKNOWN and not data["createdAt"].startswith("2000")
    if kind == "scenes":
        assert data["isActive"] is False
    if kind == "schedules":
        assert data["lastRunAt"] is None and not data["nextRunAt"].startswith("2000")
    listed = api.get(f"/api/homes/{world['home'].pk}/{kind}").json()["results"]
    assert data["id"] in {item["id"] for item in listed}
