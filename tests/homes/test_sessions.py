"""Signed-in sessions (homes/sessions.py): rotation that one request wins, reuse that revokes
the family, logout everywhere, a password change that ends every session, tokens not cached."""
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from homes.models import RefreshSession, User
from tests import factories as f


def login(client, user, password=f.PASSWORD):
    response = client.post("/api/auth/login", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, token):
    return client.post("/api/auth/refresh", {"refreshToken": token}, format="json")


def bearer(tokens) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
    return client


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_refreshes_with_one_token_exactly_one_wins(owner, home):
    token = login(APIClient(), owner)["refreshToken"]
    start, statuses = threading.Barrier(8), []

    def attempt():
        start.wait()
        try:
            statuses.append(refresh(APIClient(), token).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses) == [200] + [401] * 7
    # The losers presented a token that had just been rotated: the family is revoked.
    session = RefreshSession.objects.get(user=owner)
    assert (session.rotations, session.revoked_reason) == (1, "reuse")


def test_presenting_a_rotated_token_revokes_its_whole_family(anon, owner, home):
    first = login(anon, owner)["refreshToken"]
    second = refresh(anon, first).json()["refreshToken"]
    third = refresh(anon, second).json()["refreshToken"]
    other_app = login(APIClient(), owner)["refreshToken"]

    stolen = refresh(anon, first)  # a copy of the first token, used after the app rotated it

    assert stolen.status_code == 401 and stolen.json()["error"]["code"] == "token_invalid"
    assert refresh(anon, third).status_code == 401  # the rightful app must log in again too
    assert refresh(anon, other_app).status_code == 200  # another login is another family
    assert RefreshSession.objects.filter(user=owner, revoked_reason="reuse").count() == 1


def test_logout_all_ends_every_session(anon, owner, home):
    phone, tablet = login(APIClient(), owner), login(APIClient(), owner)

    assert bearer(phone).post("/api/auth/logout-all").status_code == 204

    assert refresh(anon, phone["refreshToken"]).status_code == 401
    assert refresh(anon, tablet["refreshToken"]).status_code == 401
    assert set(RefreshSession.objects.filter(user=owner).values_list("revoked_reason", flat=True)) == {"logout_all"}


def test_logout_ends_only_that_session(anon, owner, home):
    phone, tablet = login(APIClient(), owner), login(APIClient(), owner)
    assert bearer(phone).post("/api/auth/logout", {"refreshToken": phone["refreshToken"]}, format="json").status_code == 204
    assert refresh(anon, phone["refreshToken"]).status_code == 401
    assert refresh(anon, tablet["refreshToken"]).status_code == 200


def test_a_password_change_ends_every_other_session(anon, owner, home):
    phone, tablet = login(APIClient(), owner), login(APIClient(), owner)

    response = bearer(phone).post("/api/auth/password", {"currentPassword": f.PASSWORD,
                                                         "newPassword": "a-new-long-passphrase"}, format="json")

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    assert refresh(anon, tablet["refreshToken"]).status_code == 401
    assert refresh(anon, phone["refreshToken"]).status_code == 401
    assert refresh(anon, response.json()["refreshToken"]).status_code == 200  # the new pair works
    login(anon, owner, password="a-new-long-passphrase")


@pytest.mark.parametrize("body, field", [
    ({"currentPassword": "wrong-one", "newPassword": "a-new-long-passphrase"}, "currentPassword"),
    ({"currentPassword": f.PASSWORD, "newPassword": "short"}, "newPassword"),
    ({"currentPassword": f.PASSWORD}, "newPassword"),
])
def test_a_refused_password_change_names_the_field_and_changes_nothing(owner, home, body, field):
    tokens = login(APIClient(), owner)
    response = bearer(tokens).post("/api/auth/password", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert User.objects.get(pk=owner.pk).check_password(f.PASSWORD)
    assert refresh(APIClient(), tokens["refreshToken"]).status_code == 200


def test_a_password_set_anywhere_else_stops_refreshes_too(anon, owner, home):
    token = login(anon, owner)["refreshToken"]
    owner.set_password("set-by-support-staff")  # the admin's password form does this
    owner.save()
    assert refresh(anon, token).status_code == 401


def test_a_refresh_token_without_a_session_is_refused(anon, owner, home):
    legacy = str(RefreshToken.for_user(owner))  # validly signed, but no family
    assert refresh(anon, legacy).status_code == 401


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/auth/refresh"])
def test_token_responses_are_not_cached(anon, owner, home, path):
    body = {"/api/auth/login": {"email": owner.email, "password": f.PASSWORD},
            "/api/auth/register": {"name": "Ada", "email": "ada@example.com", "password": "password123"},
            "/api/auth/refresh": {"refreshToken": login(APIClient(), owner)["refreshToken"]}}[path]
    response = anon.post(path, body, format="json")
    assert response.status_code in (200, 201)
    assert response["Cache-Control"] == "no-store"


def test_sessions_keep_no_token(anon, owner, home):
    tokens = login(anon, owner)
    row = str(RefreshSession.objects.filter(user=owner).values().get())
    assert tokens["refreshToken"] not in row and tokens["refreshToken"].split(".")[2] not in row


def test_support_sees_a_customers_sessions_without_tokens_and_can_log_them_out(anon, db):
    from tests.admin_support import seeded_agent

    agent = seeded_agent()
    demo = User.objects.get(email="demo@veahome.local")
    tokens = login(anon, demo, password="demo1234")

    page = agent.get("/admin/homes/refreshsession/", {"q": demo.email})
    assert page.status_code == 200 and "demo@veahome.local" in page.content.decode()
    assert tokens["refreshToken"].split(".")[2] not in page.content.decode()

    session = RefreshSession.objects.get(user=demo, revoked_at__isnull=True)
    done = agent.post("/admin/homes/refreshsession/", {"action": "log_out", "_selected_action": [str(session.pk)]})
    assert done.status_code == 302
    assert refresh(anon, tokens["refreshToken"]).status_code == 401
