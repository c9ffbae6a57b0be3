"""Login protection (homes/login_protection.py) through the real HTTP stack, against real Redis:
guessing locks an email out of a client, never its owner out of a client they use."""
import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from homes.login_protection import DEVICE_COOKIE
from tests import factories as f

pytestmark = pytest.mark.django_db

ATTACKER, OWNER_HOME, OWNER_PHONE, NEWCOMER = "203.0.113.9", "198.51.100.7", "198.51.100.8", "192.0.2.44"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_ACCOUNT_FAILURE_LIMIT = 6
    settings.LOGIN_COOLOFF_SECONDS = 60


@pytest.fixture
def user(db):
    return f.UserFactory(email="ada@example.com")


def login(client, email, password, address):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def test_an_email_is_locked_out_of_a_client_after_n_failures(user):
    client = APIClient()
    statuses = [login(client, user.email, "wrong", ATTACKER).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    locked = login(client, user.email, f.PASSWORD, ATTACKER)  # the right password changes nothing now
    assert locked.status_code == 429
    assert locked.json() == {"error": {"code": "login_locked", "message": "Too many failed logins: try again later.",
                                       "fields": {}}}
    assert 0 < int(locked["Retry-After"]) <= 60
    # Another client is not locked out by these three.
    assert login(APIClient(), user.email, f.PASSWORD, NEWCOMER).status_code == 200


def test_unknown_emails_are_counted_and_locked_exactly_like_known_ones(user):
    answers = {}
    for email in (user.email, "nobody@example.com"):
        client = APIClient()
        responses = [login(client, email, "wrong", ATTACKER) for _ in range(4)]
        answers[email] = [(r.status_code, r.json(), r.has_header("Retry-After")) for r in responses]
    assert answers[user.email] == answers["nobody@example.com"]
    assert [status for status, _, _ in answers[user.email]] == [401, 401, 401, 429]


def test_the_owners_clients_keep_working_during_an_attack_from_elsewhere(user):
    phone = APIClient()
    assert login(phone, user.email, f.PASSWORD, OWNER_HOME).status_code == 200
    assert phone.cookies[DEVICE_COOKIE]["httponly"]

    # Someone guesses from ever new addresses until the email is locked for every unknown client.
    statuses = [login(APIClient(), user.email, f"guess{n}", f"203.0.113.{n // 2}").status_code for n in range(6)]
    assert statuses == [401] * 6
    assert login(APIClient(), user.email, f.PASSWORD, NEWCOMER).status_code == 429
    assert login(APIClient(), user.email, "another guess", "203.0.113.77").status_code == 429

    # The phone, with its device cookie, even on another network; and the address it logged in from.
    assert login(phone, user.email, f.PASSWORD, OWNER_PHONE).status_code == 200
    assert login(APIClient(), user.email, f.PASSWORD, OWNER_HOME).status_code == 200


def test_guessing_from_the_owners_own_address_does_not_lock_the_owners_device(user):
    phone = APIClient()
    assert login(phone, user.email, f.PASSWORD, OWNER_HOME).status_code == 200
    intruder = APIClient()
    assert [login(intruder, user.email, "wrong", OWNER_HOME).status_code for _ in range(4)] == [401, 401, 401, 429]
    assert login(phone, user.email, f.PASSWORD, OWNER_HOME).status_code == 200
    # The device marker counts its own failures.
    assert [login(phone, user.email, "typo", OWNER_HOME).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_a_success_resets_that_clients_failures(user):
    client = APIClient()
    for _ in range(2):
        assert [login(client, user.email, "wrong", ATTACKER).status_code for _ in range(2)] == [401, 401]
        client.cookies.clear()  # count by address
        assert login(client, user.email, f.PASSWORD, ATTACKER).status_code == 200
        client.cookies.clear()
    assert login(client, user.email, "wrong", ATTACKER).status_code == 401


def test_the_lock_ends_after_the_cool_off(user, settings):
    settings.LOGIN_COOLOFF_SECONDS = 1
    client = APIClient()
    assert [login(client, user.email, "wrong", ATTACKER).status_code for _ in range(4)] == [401, 401, 401, 429]
    time.sleep(1.2)
    assert login(client, user.email, f.PASSWORD, ATTACKER).status_code == 200


def test_forged_headers_and_cookies_do_not_make_a_new_client(user):
    client = APIClient()
    client.cookies[DEVICE_COOKIE] = "forged"
    statuses = [
        client.post("/api/auth/login", {"email": user.email, "password": "wrong"}, format="json",
                    REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").status_code
        for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    # A device cookie issued for another account is not one for this email.
    other = f.UserFactory(email="eve@example.com")
    eve = APIClient()
    assert login(eve, other.email, f.PASSWORD, ATTACKER).status_code == 200
    assert login(eve, user.email, f.PASSWORD, ATTACKER).status_code == 429


def test_emails_are_counted_whatever_their_case(user):
    client = APIClient()
    for email in ("ada@example.com", "ADA@example.com", "Ada@Example.com"):
        assert login(client, email, "wrong", ATTACKER).status_code == 401
    assert login(client, user.email, f.PASSWORD, ATTACKER).status_code == 429


def admin_login(client, email, password, address):
    return client.post("/admin/login/", {"username": email, "password": password, "next": "/admin/"},
                       REMOTE_ADDR=address)


def test_the_admin_login_is_locked_too(db):
    staff = f.UserFactory(email="agent@veahome.local", is_staff=True, is_superuser=True)
    pages = {}
    for email in (staff.email, "ghost@veahome.local"):
        browser = Client()
        for _ in range(3):
            assert admin_login(browser, email, "wrong", ATTACKER).status_code == 200
        page = admin_login(browser, email, f.PASSWORD, ATTACKER)
        assert page.status_code == 200 and "_auth_user_id" not in browser.session
        pages[email] = page.content.decode()
        assert "Too many failed logins for this account" in pages[email]
    # API and admin share the counters: the API is locked for this client as well.
    assert login(APIClient(), staff.email, f.PASSWORD, ATTACKER).status_code == 429

    browser = Client()
    done = admin_login(browser, staff.email, f.PASSWORD, NEWCOMER)
    assert done.status_code == 302 and browser.session["_auth_user_id"] == str(staff.pk)
    assert DEVICE_COOKIE in done.cookies
