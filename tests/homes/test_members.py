"""Household roles: owners and admins manage members; admins cannot grant admin; the owner stays; anyone may leave.
(How people join, by invitation: tests/homes/test_invitations.py.)"""
import pytest

from homes.models import Membership
from tests import factories as f
from tests.conftest import client_for


@pytest.fixture
def people(home):
    roles = {}
    for role in ("admin", "member", "guest"):
        user = f.add_member(home, role=role)
        roles[role] = Membership.objects.get(home=home, user=user)
    roles["owner"] = Membership.objects.get(home=home, role="owner")
    return roles


def url(home, membership=None):
    base = f"/api/homes/{home.pk}/members"
    return f"{base}/{membership.pk}" if membership else base


def test_adding_someone_invites_them_and_adds_nobody(api, home):
    newcomer = f.UserFactory(email="new@example.com")
    response = api.post(url(home), {"email": "NEW@example.com", "role": "admin"}, format="json")
    assert response.status_code == 202, response.content
    assert response.json()["email"] == "new@example.com" and response.json()["role"] == "admin"
    assert not Membership.objects.filter(home=home, user=newcomer).exists()


def test_admin_cannot_grant_admin(home, people):
    admin = client_for(people["admin"].user)
    newcomer = f.UserFactory()
    invite = admin.post(url(home), {"email": newcomer.email, "role": "admin"}, format="json")
    assert invite.status_code == 403 and invite.json()["error"]["code"] == "role_not_assignable"
    promote = admin.patch(url(home, people["member"]), {"role": "admin"}, format="json")
    assert promote.status_code == 403
    assert Membership.objects.get(pk=people["member"].pk).role == "member"


def test_admin_manages_members_and_guests(home, people):
    admin = client_for(people["admin"].user)
    assert admin.patch(url(home, people["guest"]), {"role": "member"}, format="json").status_code == 200
    assert admin.delete(url(home, people["member"])).status_code == 204
    assert not Membership.objects.filter(pk=people["member"].pk).exists()


def test_admin_cannot_remove_another_admin(home, people):
    other_admin = Membership.objects.get(home=home, user=f.add_member(home, role="admin"))
    response = client_for(people["admin"].user).delete(url(home, other_admin))
    assert response.status_code == 403
    assert Membership.objects.filter(pk=other_admin.pk).exists()


def test_owner_cannot_be_removed_or_demoted(api, home, people):
    admin = client_for(people["admin"].user)
    assert admin.delete(url(home, people["owner"])).status_code in (403, 409)
    assert api.delete(url(home, people["owner"])).status_code == 409
    assert admin.patch(url(home, people["owner"]), {"role": "guest"}, format="json").status_code == 403
    assert Membership.objects.get(pk=people["owner"].pk).role == "owner"


def test_nobody_can_grant_owner(api, home, people):
    response = api.patch(url(home, people["admin"]), {"role": "owner"}, format="json")
    assert response.status_code == 400 and "role" in response.json()["error"]["fields"]


def test_member_and_guest_can_leave(home, people):
    for role in ("member", "guest"):
        membership = people[role]
        response = client_for(membership.user).delete(url(home, membership))
        assert response.status_code == 204
        assert not Membership.objects.filter(pk=membership.pk).exists()
        # Once gone, the home is invisible: 404, not 403.
        assert client_for(membership.user).get(f"/api/homes/{home.pk}").status_code == 404


def test_guest_cannot_remove_someone_else(home, people):
    response = client_for(people["guest"].user).delete(url(home, people["member"]))
    assert response.status_code == 403


def test_members_list_shows_everyone_with_roles(api, home, people):
    data = api.get(url(home)).json()["results"]
    assert sorted(m["role"] for m in data) == ["admin", "guest", "member", "owner"]
    assert {"id", "userId", "email", "name", "role", "createdAt"} == set(data[0])
