"""Accounts: register, login, me, refresh rotation, logout, the auth throttle."""
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from homes.authentication import ValidatedTokens, validated_tokens
from homes.models import Home, Membership, User
from tests import factories as f
from tests.conftest import client_for


@pytest.fixture(autouse=True)
def _db(db):
    """Every test here touches accounts."""


def register(anon, **overrides):
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "password123"} | overrides
    return anon.post("/api/auth/register", body, format="json")


def assert_auth_shape(data, user):
    assert set(data) == {"token", "refreshToken", "user", "homes"}
    assert data["user"]["id"] == str(user.pk)
    assert data["user"]["email"] == user.email
    assert data["user"]["name"] == user.name
    assert data["user"]["homeId"] == data["homes"][0]["id"]
    assert data["token"] and data["refreshToken"]


def test_register_returns_the_seed_shape_and_creates_my_home(anon):
    response = register(anon)
    assert response.status_code == 201, response.content
    user = User.objects.get(email="ada@example.com")
    data = response.json()
    assert_auth_shape(data, user)
    home = Home.objects.get(pk=data["homes"][0]["id"])
    assert home.name == "My Home"
    assert data["homes"] == [{"id": str(home.pk), "name": "My Home", "role": "owner"}]
    assert Membership.objects.get(home=home).user == user


def test_register_token_works_for_me(anon):
    token = register(anon).json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert anon.get("/api/auth/me").json()["user"]["email"] == "ada@example.com"


def test_register_duplicate_email_is_409_whatever_the_case(anon):
    register(anon)
    response = register(anon, email="ADA@Example.com")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "email_taken"
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.filter(email__iexact="ada@example.com").count() == 1


def test_register_weak_password_names_the_field(anon):
    response = register(anon, password="abc")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "password" in response.json()["error"]["fields"]
    assert not User.objects.exists()


@pytest.mark.parametrize("field,value", [("email", "not-an-email"), ("name", ""), ("name", 42), ("email", None)])
def test_register_bad_fields_are_named(anon, field, value):
    response = register(anon, **{field: value})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_login_returns_the_seed_shape(anon, owner, home):
    response = anon.post("/api/auth/login", {"email": owner.email, "password": f.PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    assert_auth_shape(response.json(), owner)
    assert response.json()["user"]["homeId"] == str(home.pk)


def test_login_email_is_case_insensitive(anon, owner, home):
    response = anon.post("/api/auth/login", {"email": owner.email.upper(), "password": f.PASSWORD}, format="json")
    assert response.status_code == 200


def test_login_wrong_password_is_401_in_the_error_shape(anon, owner):
    response = anon.post("/api/auth/login", {"email": owner.email, "password": "wrong-password"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert "token" not in response.json()


def test_login_unknown_email_is_the_same_401(anon, db):
    response = anon.post("/api/auth/login", {"email": "nobody@example.com", "password": "password123"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_me_returns_user_and_homes(api, owner, home):
    other = f.make_home(f.UserFactory(), name="Friends")
    f.add_member(other, owner, role="guest")
    data = api.get("/api/auth/me/").json()
    assert data["user"]["id"] == str(owner.pk)
    assert data["user"]["homeId"] == str(home.pk)
    assert [(h["name"], h["role"]) for h in data["homes"]] == [("Casa", "owner"), ("Friends", "guest")]


def test_me_needs_a_token(anon):
    assert anon.get("/api/auth/me").status_code == 401


def login(anon, user):
    return anon.post("/api/auth/login", {"email": user.email, "password": f.PASSWORD}, format="json").json()


def test_refresh_rotates_and_the_old_token_is_refused(anon, owner, home):
    old = login(anon, owner)["refreshToken"]
    response = anon.post("/api/auth/refresh", {"refreshToken": old}, format="json")
    assert response.status_code == 200
    new = response.json()
    assert set(new) == {"token", "refreshToken"} and new["refreshToken"] != old
    assert anon.post("/api/auth/refresh", {"refreshToken": new["refreshToken"]}, format="json").status_code == 200


def test_refresh_with_garbage_is_401(anon, db):
    response = anon.post("/api/auth/refresh", {"refreshToken": "garbage"}, format="json")
    assert response.status_code == 401


def test_refresh_of_a_deactivated_user_is_refused(anon, owner, home):
    refresh = login(anon, owner)["refreshToken"]
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert anon.post("/api/auth/refresh", {"refreshToken": refresh}, format="json").status_code == 401


def test_logout_revokes_the_refresh_token(anon, owner, home):
    tokens = login(anon, owner)
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    response = anon.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 204
    anon.credentials()
    refused = anon.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert refused.status_code == 401


def test_logout_cannot_revoke_someone_elses_token(anon, owner, home, outsider):
    tokens = login(anon, owner)
    response = outsider.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert response.status_code == 400
    assert "refreshToken" in response.json()["error"]["fields"]
    assert anon.post("/api/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json").status_code == 200


def test_auth_throttle_really_throttles(anon, owner, settings):
    settings.AUTH_THROTTLE_RATE = "3/min"
    cache.clear()
    body = {"email": owner.email, "password": "wrong-password"}
    statuses = [anon.post("/api/auth/login", body, format="json").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    throttled = anon.post("/api/auth/login", {"email": owner.email, "password": f.PASSWORD}, format="json")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    cache.clear()


def test_a_forged_forwarded_for_header_does_not_reset_the_throttle(anon, owner, settings):
    settings.AUTH_THROTTLE_RATE = "2/min"
    cache.clear()
    body = {"email": owner.email, "password": "wrong-password"}
    statuses = [
        anon.post("/api/auth/login", body, format="json", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]
    cache.clear()


def test_a_deactivated_users_token_opens_nothing(home, owner, api):
    """The token stays signed until it expires; the account behind it must still be active."""
    assert api.get(f"/api/homes/{home.pk}/devices").status_code == 200
    assert api.get("/api/auth/me").status_code == 200
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert api.get(f"/api/homes/{home.pk}/devices").status_code == 404
    assert api.get("/api/auth/me").status_code == 401
    assert api.get("/api/homes").status_code == 401


def test_a_deleted_users_token_opens_nothing(home):
    member = f.add_member(home, role="member")
    client = client_for(member)
    assert client.get(f"/api/homes/{home.pk}/devices").status_code == 200
    member.delete()
    assert client.get(f"/api/homes/{home.pk}/devices").status_code == 404
    assert client.get("/api/auth/me").status_code == 401


def test_home_scoped_requests_load_the_user_with_the_membership(home, api, django_assert_num_queries):
    api.get(f"/api/homes/{home.pk}/rooms")
    with django_assert_num_queries(2) as captured:  # user + membership + home in one query; the rooms
        assert api.get(f"/api/homes/{home.pk}/rooms").status_code == 200
    first = captured.captured_queries[0]["sql"]
    assert "homes_membership" in first and "homes_user" in first and '"is_active"' in first


def test_an_access_token_is_validated_once_and_served_until_it_expires(home, owner):
    """homes/authentication.py keeps validated tokens per process: never past their `exp`."""
    validated_tokens.clear()
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=timedelta(seconds=2))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    raw = str(token).encode()
    assert client.get(f"/api/homes/{home.pk}/devices").status_code == 200
    assert validated_tokens.get(raw) is not None
    assert client.get(f"/api/homes/{home.pk}/devices").status_code == 200
    time.sleep(max(0.0, token["exp"] - time.time()) + 0.05)
    response = client.get(f"/api/homes/{home.pk}/devices")
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
    assert validated_tokens.get(raw) is None


def test_a_tampered_token_is_refused_and_never_kept(home, owner):
    validated_tokens.clear()
    good = str(AccessToken.for_user(owner))
    header, payload, signature = good.split(".")
    for bad in (f"{header}.{payload}.{signature[:-2]}AA", f"{header}.{payload[:-2]}AA.{signature}"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {bad}")
        assert client.get(f"/api/homes/{home.pk}/devices").status_code == 401
        assert validated_tokens.get(bad.encode()) is None


def test_the_token_cache_is_bounded_oldest_first(owner):
    tokens = ValidatedTokens(size=2)
    raws = []
    for _ in range(3):
        token = AccessToken.for_user(owner)
        raws.append(str(token).encode())
        tokens.add(raws[-1], token)
    assert tokens.get(raws[0]) is None and tokens.get(raws[1]) is not None and tokens.get(raws[2]) is not None
