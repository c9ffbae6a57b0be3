"""Devices: list filters, pagination, both URL spellings, fixed type/category, same-home rooms and hubs."""
import pytest

from devices.models import Device
from tests import factories as f


def url(home, *rest):
    return "/".join([f"/api/homes/{home.pk}/devices", *map(str, rest)])


def names(response):
    assert response.status_code == 200, response.content
    return sorted(d["name"] for d in response.json()["results"])


@pytest.fixture
def fleet(world):
    w = world
    f.DeviceFactory(room=w["kitchen"], name="Kettle", type="sensor", category="Relay", is_active=True)
    f.DeviceFactory(room=w["kitchen"], name="Blind", type="blind", category="RF")
    return w


def test_filter_by_room(api, fleet):
    assert names(api.get(url(fleet["home"]), {"roomId": fleet["kitchen"].pk})) == ["Blind", "Kettle"]


def test_filter_by_type_and_category(api, fleet):
    assert names(api.get(url(fleet["home"]), {"type": "tv"})) == ["TV"]
    assert names(api.get(url(fleet["home"]), {"category": "RF"})) == ["Blind"]
    assert names(api.get(url(fleet["home"]), {"type": "light", "category": "Zigbee"})) == ["Lamp"]


def test_filter_by_is_active(api, fleet):
    assert names(api.get(url(fleet["home"]), {"isActive": "true"})) == ["Kettle"]
    assert names(api.get(url(fleet["home"]), {"isActive": "false"})) == ["Blind", "Lamp", "TV"]


def test_filter_by_hub(api, fleet):
    assert names(api.get(url(fleet["home"]), {"hubId": fleet["hub"].pk})) == ["Lamp", "TV"]


@pytest.mark.parametrize(
    "param,value",
    [("type", "toaster"), ("category", "ir"), ("isActive", "maybe"), ("roomId", "not-a-uuid"), ("roomId", "")],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, fleet, param, value):
    response = api.get(url(fleet["home"]), {param: value})
    assert response.status_code == 400, response.content
    assert param in response.json()["error"]["fields"]


def test_pagination(api, fleet):
    first = api.get(url(fleet["home"]), {"pageSize": 3}).json()
    assert first["count"] == 4 and len(first["results"]) == 3 and first["next"]
    second = api.get(url(fleet["home"]), {"pageSize": 3, "page": 2}).json()
    assert len(second["results"]) == 1 and second["next"] is None
    seen = {d["id"] for d in first["results"]} | {d["id"] for d in second["results"]}
    assert len(seen) == 4


@pytest.mark.parametrize("params", [{"pageSize": "abc"}, {"pageSize": 0}, {"pageSize": 501}, {"page": "x"}, {"page": 0}])
def test_bad_pagination_is_400_naming_the_parameter(api, fleet, params):
    response = api.get(url(fleet["home"]), params)
    assert response.status_code == 400
    assert set(params) <= set(response.json()["error"]["fields"])


def test_a_page_past_the_end_is_404(api, fleet):
    assert api.get(url(fleet["home"]), {"page": 9}).status_code == 404


def route_calls(w):
    home, lamp, tv = w["home"], w["lamp"], w["tv"]
    body = {"name": "Heater", "type": "thermostat", "category": "WiFi", "roomId": str(w["kitchen"].pk)}
    return [
        ("get", url(home), None, 200),
        ("post", url(home), body, 201),
        ("get", url(home, lamp.pk), None, 200),
        ("patch", url(home, lamp.pk), {"name": "Desk lamp"}, 200),
        ("put", url(home, lamp.pk), {"name": "Desk lamp", "roomId": str(w["kitchen"].pk)}, 200),
        ("delete", url(home, tv.pk), None, 204),
    ]


@pytest.mark.parametrize("slash", ["", "/"])
@pytest.mark.parametrize("index", range(6))
def test_every_route_works_with_and_without_trailing_slash(api, world, slash, index):
    method, path, body, expected = route_calls(world)[index]
    response = getattr(api, method)(path + slash, body, format="json")
    assert response.status_code == expected, response.content


def test_create_returns_the_device_in_camel_case(api, world):
    body = {"name": "Heater", "type": "thermostat", "category": "WiFi", "roomId": str(world["kitchen"].pk),
            "hubId": str(world["hub"].pk), "value": 21.5, "unit": "°C"}
    response = api.post(url(world["home"]), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["roomId"] == str(world["kitchen"].pk) and data["hubId"] == str(world["hub"].pk)
    assert data["value"] == 21.5 and data["isActive"] is False
    device = Device.objects.get(pk=data["id"])
    assert device.home == world["home"] and device.type == "thermostat"


def test_type_and_category_are_fixed_after_creation(api, world):
    lamp = world["lamp"]
    response = api.patch(url(world["home"], lamp.pk), {"type": "tv", "category": "IR", "name": "Still a lamp"}, format="json")
    assert response.status_code == 200
    lamp.refresh_from_db()
    assert (lamp.type, lamp.category, lamp.name) == ("light", "Zigbee", "Still a lamp")
    assert response.json()["type"] == "light"


def test_device_in_another_homes_room_is_refused_naming_the_field(api, world):
    foreign = f.RoomFactory(home=f.make_home(name="Other"))
    body = {"name": "Spy", "type": "camera", "category": "WiFi", "roomId": str(foreign.pk)}
    response = api.post(url(world["home"]), body, format="json")
    assert response.status_code == 400
    assert "roomId" in response.json()["error"]["fields"]
    moved = api.patch(url(world["home"], world["lamp"].pk), {"roomId": str(foreign.pk)}, format="json")
    assert moved.status_code == 400 and "roomId" in moved.json()["error"]["fields"]
    world["lamp"].refresh_from_db()
    assert world["lamp"].room == world["living"]


def test_device_on_another_homes_hub_is_refused_naming_the_field(api, world):
    other = f.make_home(name="Other")
    hub = f.HubFactory(home=other)
    response = api.patch(url(world["home"], world["lamp"].pk), {"hubId": str(hub.pk)}, format="json")
    assert response.status_code == 400
    assert "hubId" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "field,value",
    [("type", "toaster"), ("category", "Bluetooth"), ("name", 5), ("isActive", "yes"), ("value", "warm"),
     ("signalMappings", ["ON"]), ("roomId", 12)],
)
def test_create_with_a_bad_field_names_it(api, world, field, value):
    body = {"name": "Heater", "type": "thermostat", "category": "WiFi", "roomId": str(world["kitchen"].pk)}
    response = api.post(url(world["home"]), body | {field: value}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_guest_reads_but_cannot_change_devices(world, as_role):
    guest = as_role("guest")
    assert guest.get(url(world["home"])).status_code == 200
    assert guest.patch(url(world["home"], world["lamp"].pk), {"name": "x"}, format="json").status_code == 403
