"""Home, layout, room and membership updates: the exact event each publishes, the columns it
writes, and nothing at all when nothing changes."""
import pytest

from automations.models import Schedule
from homes.models import Membership
from homes.services import home_update, layout_update, membership_update, room_update
from tests import factories as f
from tests.events import capture_events, capture_writes, columns_set

pytestmark = pytest.mark.django_db


def test_home_update_names_only_the_fields_that_changed(world):
    home = world["home"]
    schedule = world["schedule"]
    madrid_run = Schedule.objects.get(pk=schedule.pk).next_run_at
    with capture_events(home.pk) as events, capture_writes() as writes:
        home_update(home=home, actor=home.owner, name="Casa", timezone="America/New_York")
    home_writes = [columns_set(w) for w in writes if w.startswith('UPDATE "homes_home"')]
    assert home_writes == [{"timezone", "updated_at"}]
    assert events == [("home:update", {"homeId": str(home.pk), "changed": ["timezone"]})]
    # 07:00 on the home's wall clock is a different instant in the new zone.
    assert Schedule.objects.get(pk=schedule.pk).next_run_at != madrid_run


def test_home_update_that_changes_nothing_writes_and_publishes_nothing(home, django_assert_num_queries):
    with capture_events(home.pk) as events, capture_writes() as writes:
        with django_assert_num_queries(2):  # savepoint, release
            home_update(home=home, actor=home.owner, name="Casa", timezone="Europe/Madrid")
    assert writes == [] and events == []


def test_home_update_through_the_api_publishes_one_event(api, home):
    with capture_events(home.pk) as events:
        response = api.patch(f"/api/homes/{home.pk}", {"name": "Casa Sol", "address": "Calle 1"}, format="json")
    assert response.status_code == 200, response.content
    assert events == [("home:update", {"homeId": str(home.pk), "changed": ["address", "name"]})]


def test_layout_update_publishes_the_layout_and_the_same_layout_publishes_nothing(world):
    home, living = world["home"], world["living"]
    layout = {str(living.pk): {"x": 1, "y": 2}}
    with capture_events(home.pk) as events, capture_writes() as writes:
        layout_update(home=home, layout=layout)
    assert [columns_set(w) for w in writes] == [{"layout", "updated_at"}]
    assert events == [("home:layout", {"homeId": str(home.pk), "layout": layout})]
    with capture_events(home.pk) as events, capture_writes() as writes:
        layout_update(home=home, layout={str(living.pk): {"x": 1, "y": 2}})
    assert writes == [] and events == []


def test_room_update_publishes_the_changed_fields(world):
    room = world["living"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        room_update(room=room, name="Lounge", temperature=room.temperature)
    assert [columns_set(w) for w in writes] == [{"name", "updated_at"}]
    assert events == [("room:update", {"roomId": str(room.pk), "name": "Lounge", "changed": ["name"]})]


def test_room_update_that_changes_nothing_writes_and_publishes_nothing(world, django_assert_num_queries):
    room = world["living"]
    with capture_events(world["home"].pk) as events, capture_writes() as writes:
        with django_assert_num_queries(2):
            room_update(room=room, name="Living room")
    assert writes == [] and events == []


def test_membership_update_publishes_the_new_role_once(home):
    guest = f.add_member(home, role="guest")
    membership = Membership.objects.get(home=home, user=guest)
    with capture_events(home.pk) as events, capture_writes() as writes:
        membership_update(membership=membership, actor_role="owner", role="member")
    assert [columns_set(w) for w in writes] == [{"role", "updated_at"}]
    assert events == [("member:update", {"membershipId": str(membership.pk), "userId": str(guest.pk),
                                         "role": "member"})]
    with capture_events(home.pk) as events, capture_writes() as writes:
        membership_update(membership=membership, actor_role="owner", role="member")
    assert writes == [] and events == []
