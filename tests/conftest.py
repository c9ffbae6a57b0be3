"""Fixtures shared by every suite: real PostgreSQL (pytest-django's test database)."""
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from homes.models import Membership

from . import factories as f


def pytest_configure(config):
    from django.conf import settings

    # Argon2 costs ~50 ms a hash; suites create hundreds of users. tests/homes/test_passwords.py
    # puts the production hashers back to prove they are used.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _relaxed_auth_throttle(settings):
    # Suites log in (and invite) many times from one address and account; the throttles have tests of their own.
    settings.AUTH_THROTTLE_RATE = "100000/min"
    settings.INVITE_THROTTLE_RATE = "100000/min"


@pytest.fixture(autouse=True)
def _no_login_failures_from_other_tests():
    # Login protection counts in Redis, which outlives each test's database transaction.
    from homes import login_protection

    login_protection.reset_all()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def owner(db):
    return f.UserFactory()


@pytest.fixture
def home(owner):
    return f.make_home(owner, name="Casa", timezone="Europe/Madrid")


@pytest.fixture
def api(owner):
    """A client logged in as the home's owner."""
    return client_for(owner)


@pytest.fixture
def outsider(db):
    """A client of someone with a home of their own, but no part in `home`."""
    user = f.UserFactory()
    f.make_home(user, name="Elsewhere")
    return client_for(user)


@pytest.fixture
def as_role(home):
    def make(role: str) -> APIClient:
        if role == "owner":
            return client_for(home.owner)
        return client_for(f.add_member(home, role=role))

    return make


@pytest.fixture
def world(home):
    """A furnished home: rooms, a hub serving two of them, devices, a scene, a schedule, a group, an automation."""
    living = f.RoomFactory(home=home, name="Living room")
    kitchen = f.RoomFactory(home=home, name="Kitchen")
    hub = f.HubFactory(home=home)
    f.assign_rooms(hub, [living, kitchen])
    lamp = f.DeviceFactory(room=living, hub=hub, name="Lamp")
    tv = f.DeviceFactory(room=living, hub=hub, name="TV", type="tv", category="IR", signal_mappings={"ON": "0x20DF10EF"})
    scene = f.make_scene(home, [lamp, tv])
    return {
        "home": home,
        "living": living,
        "kitchen": kitchen,
        "hub": hub,
        "lamp": lamp,
        "tv": tv,
        "scene": scene,
        "schedule": f.make_schedule(home, scene),
        "group": f.make_group(home, [lamp, tv]),
        "automation": f.make_automation(home, lamp),
        # A guest of the home (for the member routes) and someone with an account but no home here.
        "friend": Membership.objects.get(home=home, user=f.add_member(home, role="guest")),
        "stranger": f.UserFactory(),
    }
