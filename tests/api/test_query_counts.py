"""List endpoints run a fixed number of queries: 20 objects cost what 2 do.

The budgets are today's exact counts (user, membership, count, page, plus one prefetch
where a list nests members or room slots), so a new query shows up here first.
"""
import pytest

from homes.models import Membership
from tests import factories as f


def add_rooms(w, n):
    for _ in range(n):
        f.RoomFactory(home=w["home"])


def add_members(w, n):
    for _ in range(n):
        f.add_member(w["home"], role="guest")


def add_hubs(w, n):
    for _ in range(n):
        hub = f.HubFactory(home=w["home"])
        f.assign_rooms(hub, [f.RoomFactory(home=w["home"]), f.RoomFactory(home=w["home"])])


def add_devices(w, n):
    for _ in range(n):
        f.DeviceFactory(room=w["living"], hub=w["hub"])


def add_groups(w, n):
    for _ in range(n):
        f.make_group(w["home"], [w["lamp"], w["tv"]])


def add_scenes(w, n):
    for _ in range(n):
        f.make_scene(w["home"], [w["lamp"]])


def add_schedules(w, n):
    for _ in range(n):
        f.make_schedule(w["home"], w["scene"])


def add_automations(w, n):
    for _ in range(n):
        f.make_automation(w["home"], w["lamp"])


def add_homes(w, n):
    for _ in range(n):
        other = f.make_home(name="Shared")
        Membership.objects.create(home=other, user=w["home"].owner, role="guest")


LISTS = {
    "rooms": (lambda w: f"/api/homes/{w['home'].pk}/rooms", add_rooms, 4),
    "members": (lambda w: f"/api/homes/{w['home'].pk}/members", add_members, 4),
    "hubs": (lambda w: f"/api/homes/{w['home'].pk}/hubs", add_hubs, 5),
    "devices": (lambda w: f"/api/homes/{w['home'].pk}/devices", add_devices, 4),
    "device-groups": (lambda w: f"/api/homes/{w['home'].pk}/device-groups", add_groups, 5),
    "scenes": (lambda w: f"/api/homes/{w['home'].pk}/scenes", add_scenes, 4),
    "schedules": (lambda w: f"/api/homes/{w['home'].pk}/schedules", add_schedules, 4),
    "automations": (lambda w: f"/api/homes/{w['home'].pk}/automations", add_automations, 4),
    "homes": (lambda w: "/api/homes", add_homes, 2),
    "auth/me": (lambda w: "/api/auth/me", add_homes, 2),
    "home detail": (lambda w: f"/api/homes/{w['home'].pk}", add_rooms, 4),
}


@pytest.mark.parametrize("name", LISTS)
def test_list_query_count_does_not_grow(name, api, world, django_assert_max_num_queries):
    url, add, budget = LISTS[name]
    add(world, 2)
    with django_assert_max_num_queries(budget) as small:
        first = api.get(url(world))
    assert first.status_code == 200
    add(world, 18)
    with django_assert_max_num_queries(budget) as large:
        second = api.get(url(world))
    assert second.status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)
    assert second.content != first.content
