"""Homes, rooms and the 2D layout."""
from homes.models import Home
from tests import factories as f


def test_home_list_is_the_users_homes_only(api, home, outsider):
    names = [h["name"] for h in api.get("/api/homes").json()]
    assert names == ["Casa"]


def test_create_home_with_timezone_and_location(api, owner):
    body = {"name": "Beach", "timezone": "Atlantic/Canary", "latitude": 28.1, "longitude": -15.4, "address": "Calle 1"}
    response = api.post("/api/homes/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["timezone"], data["latitude"], data["longitude"], data["role"]) == ("Atlantic/Canary", 28.1, -15.4, "owner")
    assert Home.objects.get(pk=data["id"]).owner == owner


def test_home_detail_lists_rooms(api, world):
    data = api.get(f"/api/homes/{world['home'].pk}").json()
    assert [r["name"] for r in data["rooms"]] == ["Living room", "Kitchen"]
    assert data["role"] == "owner"


def test_guest_reads_home_but_cannot_rename_it(world, as_role):
    guest = as_role("guest")
    assert guest.get(f"/api/homes/{world['home'].pk}").status_code == 200
    assert guest.patch(f"/api/homes/{world['home'].pk}", {"name": "Mine"}, format="json").status_code == 403


def test_only_the_owner_deletes_a_home(world, as_role):
    assert as_role("admin").delete(f"/api/homes/{world['home'].pk}").status_code == 403
    assert as_role("owner").delete(f"/api/homes/{world['home'].pk}").status_code == 204
    assert not Home.objects.filter(pk=world["home"].pk).exists()


def test_room_crud(api, world):
    base = f"/api/homes/{world['home'].pk}/rooms"
    created = api.post(base, {"name": "Office", "temperature": 21.5, "airQuality": 40}, format="json")
    assert created.status_code == 201, created.content
    room = created.json()
    assert (room["temperature"], room["airQuality"], room["power"]) == (21.5, 40, "0W")
    assert api.get(f"{base}/{room['id']}").json()["name"] == "Office"
    assert api.put(f"{base}/{room['id']}", {"name": "Study"}, format="json").json()["name"] == "Study"
    assert api.delete(f"{base}/{room['id']}/").status_code == 204


def test_room_of_another_home_is_404(api, world):
    foreign = f.RoomFactory(home=f.make_home(name="Other"))
    assert api.get(f"/api/homes/{world['home'].pk}/rooms/{foreign.pk}").status_code == 404


def test_layout_put_and_get(api, world):
    living = str(world["living"].pk)
    layout = {living: {"x": 0, "y": 0, "width": 4.5, "height": 3}}
    response = api.put(f"/api/homes/{world['home'].pk}/layout", {"layout": layout}, format="json")
    assert response.status_code == 200
    assert response.json()["layout"][living]["width"] == 4.5
    assert api.get(f"/api/homes/{world['home'].pk}/layout").json() == {"layout": {living: {"x": 0.0, "y": 0.0, "width": 4.5, "height": 3.0}}}


def test_layout_refuses_rooms_of_other_homes_and_bad_numbers(api, world):
    foreign = str(f.RoomFactory(home=f.make_home(name="Other")).pk)
    url = f"/api/homes/{world['home'].pk}/layout"
    response = api.put(url, {"layout": {foreign: {"x": 0, "y": 0}}}, format="json")
    assert response.status_code == 400 and f"layout.{foreign}" in response.json()["error"]["fields"]
    living = str(world["living"].pk)
    bad = api.put(url, {"layout": {living: {"x": "left", "y": 0}}}, format="json")
    assert bad.status_code == 400 and f"layout.{living}.x" in bad.json()["error"]["fields"]


def test_deleting_a_room_drops_it_from_the_layout(api, world):
    living, kitchen = str(world["living"].pk), str(world["kitchen"].pk)
    layout = {living: {"x": 0, "y": 0}, kitchen: {"x": 5, "y": 0}}
    api.put(f"/api/homes/{world['home'].pk}/layout", {"layout": layout}, format="json")
    api.delete(f"/api/homes/{world['home'].pk}/rooms/{kitchen}")
    assert set(Home.objects.get(pk=world["home"].pk).layout) == {living}
