"""Support admin for customers and homes: find a customer's home by what they tell you, see all of it."""
import re

import pytest
from django.contrib.auth.hashers import make_password

from homes.models import Home, Room, User
from tests import factories as f
from tests.admin_support import change_form, seeded_agent
from tests.events import capture_events, capture_writes, columns_set

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_agent_finds_the_home_by_a_members_email_and_sees_all_of_it():
    agent = seeded_agent()
    found = text(agent.get("/admin/homes/home/", {"q": "alex@veahome.local"}))
    home = Home.objects.get(name="Demo Home")
    assert f"/admin/homes/home/{home.pk}/change/" in found
    assert "Europe/Madrid" in found

    page = text(agent.get(f"/admin/homes/home/{home.pk}/change/"))
    for expected in ("demo@veahome.local", "alex@veahome.local",  # members
                     "Living room", "Bedroom", "Kitchen", "Hallway",  # rooms
                     "VH-DEMO-0001",  # hub
                     "Air conditioner", "Front door lock", "Entrance camera"):  # devices
        assert expected in page, expected
    assert "Local time now" in page


@pytest.mark.parametrize("query", ["VH-DEMO-0001", "Entrance camera", "demo@veahome.local"])
def test_home_search_by_hub_serial_device_name_or_email(query):
    agent = seeded_agent()
    found = text(agent.get("/admin/homes/home/", {"q": query}))
    assert "Demo Home" in found
    assert "1 home" in found or "1 result" in found


def test_customer_pages_never_show_a_password_hash():
    agent = seeded_agent()
    demo = User.objects.get(email="demo@veahome.local")
    page = text(agent.get(f"/admin/homes/user/{demo.pk}/change/"))
    assert demo.password not in page
    assert not re.search(r"argon2|pbkdf2_sha256", page)
    # Setting a customer's password is for superusers only.
    assert agent.get(f"/admin/homes/user/{demo.pk}/password/").status_code == 403


def test_agent_cannot_grant_staff_rights():
    agent = seeded_agent()
    demo = User.objects.get(email="demo@veahome.local")
    page = text(agent.get(f"/admin/homes/user/{demo.pk}/change/"))
    assert 'name="is_staff"' not in page and 'name="groups"' not in page
    assert 'name="name"' in page


def test_home_list_queries_do_not_grow_with_homes(django_assert_max_num_queries):
    agent = seeded_agent()
    with django_assert_max_num_queries(12) as few:
        text(agent.get("/admin/homes/home/"))
    for n in range(15):
        owner = f.UserFactory(password=make_password(None))
        home = f.make_home(owner, name=f"Home {n}")
        f.HubFactory(home=home)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(agent.get("/admin/homes/home/"))
    assert "Home 14" in page


def test_home_page_queries_do_not_grow_with_devices(django_assert_max_num_queries):
    agent = seeded_agent()
    home = Home.objects.get(name="Demo Home")
    url = f"/admin/homes/home/{home.pk}/change/"
    text(agent.get(url))
    with django_assert_max_num_queries(40) as few:
        text(agent.get(url))
    room = home.rooms.first()
    for n in range(20):
        f.DeviceFactory(room=room, name=f"Extra {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert "Extra 19" in text(agent.get(url))


def test_timezone_change_in_admin_moves_the_schedules():
    agent = seeded_agent()
    home = Home.objects.get(name="Demo Home")
    schedule = home.schedules.get(name="Open the covers")
    before = schedule.next_run_at
    url = f"/admin/homes/home/{home.pk}/change/"
    with capture_events(home.pk) as events:
        response = agent.post(url, change_form(agent, url) | {"timezone": "America/New_York"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert events == [("home:update", {"homeId": str(home.pk), "changed": ["timezone"]})]
    home.refresh_from_db()
    schedule.refresh_from_db()
    assert home.timezone == "America/New_York"
    assert schedule.next_run_at != before
    assert schedule.next_run_at.astimezone(home.tz).strftime("%H:%M") == "07:30"


def test_renaming_a_room_in_admin_writes_its_name_and_publishes_once():
    agent = seeded_agent()
    room = Room.objects.get(name="Living room")
    url = f"/admin/homes/room/{room.pk}/change/"
    with capture_events(room.home_id) as events, capture_writes() as writes:
        response = agent.post(url, change_form(agent, url) | {"name": "Lounge"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [columns_set(w) for w in writes if w.startswith('UPDATE "homes_room"')] == [{"name", "updated_at"}]
    assert events == [("room:update", {"roomId": str(room.pk), "name": "Lounge", "changed": ["name"]})]


def test_the_home_page_lists_its_pending_invitations_read_only():
    from homes import services
    from homes.models import Invitation

    agent = seeded_agent()
    home = Home.objects.get(name="Demo Home")
    owner = home.owner
    services.invitation_create(home=home, actor=owner, actor_role="owner", email="cousin@example.com", role="guest")
    answered = services.invitation_create(home=home, actor=owner, actor_role="owner", email="gone@example.com",
                                          role="guest")
    Invitation.objects.filter(pk=answered.pk).update(status="revoked")
    page = text(agent.get(f"/admin/homes/home/{home.pk}/change/"))
    assert "Pending invitations" in page
    assert "cousin@example.com" in page and "gone@example.com" not in page
    assert 'name="invitations-0-email"' not in page
