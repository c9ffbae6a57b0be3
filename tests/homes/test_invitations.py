"""Joining a home by invitation: nobody is added without accepting, and inviting tells nothing about
who has an account."""
import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from homes.models import Invitation, Membership
from tests import factories as f
from tests.conftest import client_for
from tests.events import capture_events


def invite(client, home, email, role="member"):
    return client.post(f"/api/homes/{home.pk}/members", {"email": email, "role": role}, format="json")


def mine(client):
    return client.get("/api/invitations").json()["results"]


def accept(client, invitation_id):
    return client.post(f"/api/invitations/{invitation_id}/accept")


@pytest.fixture
def invitee(db):
    """Someone with a home of their own, not (yet) in `home`."""
    user = f.UserFactory(email="sam@example.com")
    f.make_home(user, name="Sam's flat")
    return user


def test_known_unknown_and_member_emails_get_the_same_answer(api, home, invitee):
    member = f.add_member(home, role="guest")
    answers = [invite(api, home, email) for email in (invitee.email, "nobody@example.com", member.email)]
    assert {a.status_code for a in answers} == {202}
    shapes = [{key: type(value) for key, value in a.json().items()} for a in answers]
    assert shapes[0] == shapes[1] == shapes[2]
    assert set(answers[0].json()) == {"id", "email", "role", "status", "invitedById", "expiresAt", "createdAt",
                                      "updatedAt"}
    assert [a.json()["status"] for a in answers] == ["pending"] * 3
    assert not Membership.objects.filter(home=home, user=invitee).exists()
    assert Membership.objects.get(home=home, user=member).role == "guest"


def test_the_invitee_sees_nothing_of_the_home_until_accepting(api, home, invitee):
    sam = client_for(invitee)
    own_home_id = sam.get("/api/auth/me").json()["user"]["homeId"]
    invitation = invite(api, home, "Sam@Example.com", role="member").json()
    assert invitation["email"] == "sam@example.com"

    assert sam.get(f"/api/homes/{home.pk}").status_code == 404
    assert sam.get(f"/api/homes/{home.pk}/devices").status_code == 404
    assert [h["id"] for h in sam.get("/api/homes").json()] == [own_home_id]
    me = sam.get("/api/auth/me").json()
    assert me["user"]["homeId"] == own_home_id and [h["id"] for h in me["homes"]] == [own_home_id]
    login = APIClient().post("/api/auth/login", {"email": invitee.email, "password": f.PASSWORD}, format="json").json()
    assert login["user"]["homeId"] == own_home_id and len(login["homes"]) == 1

    [listed] = mine(sam)
    assert listed["id"] == invitation["id"]
    assert (listed["homeId"], listed["homeName"], listed["role"]) == (str(home.pk), "Casa", "member")
    assert listed["invitedByName"] == home.owner.name

    joined = accept(sam, invitation["id"])
    assert joined.status_code == 200, joined.content
    assert (joined.json()["id"], joined.json()["role"]) == (str(home.pk), "member")
    assert sam.get(f"/api/homes/{home.pk}").status_code == 200
    assert Membership.objects.get(home=home, user=invitee).role == "member"
    assert mine(sam) == []
    assert api.get(f"/api/homes/{home.pk}/invitations").json()["results"] == []


def test_an_invitation_sent_before_the_account_existed_is_found_after_registering(api, home, anon):
    invitation = invite(api, home, "late@example.com", role="guest").json()
    registered = anon.post("/api/auth/register", {"name": "Late", "email": "LATE@example.com", "password": "password123"},
                           format="json").json()
    late = APIClient()
    late.credentials(HTTP_AUTHORIZATION=f"Bearer {registered['token']}")
    assert [i["id"] for i in mine(late)] == [invitation["id"]]
    assert accept(late, invitation["id"]).status_code == 200
    assert Membership.objects.get(home=home, user__email="late@example.com").role == "guest"


def test_declining_leaves_no_membership(api, home, invitee):
    sam = client_for(invitee)
    invitation = invite(api, home, invitee.email).json()
    with capture_events(home.pk) as events:
        assert sam.post(f"/api/invitations/{invitation['id']}/decline").status_code == 204
    assert [name for name, _ in events] == ["invitation:declined"]
    assert not Membership.objects.filter(home=home, user=invitee).exists()
    assert mine(sam) == []
    again = accept(sam, invitation["id"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_not_pending"
    assert sam.get(f"/api/homes/{home.pk}").status_code == 404


def test_an_expired_invitation_cannot_be_accepted(api, home, invitee):
    sam = client_for(invitee)
    invitation = invite(api, home, invitee.email).json()
    Invitation.objects.filter(pk=invitation["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert mine(sam) == []
    assert api.get(f"/api/homes/{home.pk}/invitations").json()["results"] == []
    response = accept(sam, invitation["id"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "invitation_expired"
    assert not Membership.objects.filter(home=home, user=invitee).exists()
    # A new invitation replaces the expired one.
    fresh = invite(api, home, invitee.email).json()
    assert fresh["id"] != invitation["id"]
    assert Invitation.objects.get(pk=invitation["id"]).status == "expired"
    assert accept(sam, fresh["id"]).status_code == 200


def test_someone_elses_invitation_is_a_404(api, home, invitee, outsider):
    invitation = invite(api, home, invitee.email).json()
    for client in (outsider, api):  # not even the inviter may answer it
        assert accept(client, invitation["id"]).status_code == 404
        assert client.post(f"/api/invitations/{invitation['id']}/decline").status_code == 404
        assert invitation["id"] not in [i["id"] for i in mine(client)]
    assert outsider.post("/api/invitations/not-a-uuid/accept").status_code == 404
    assert outsider.get(f"/api/homes/{home.pk}/invitations").status_code == 404
    assert outsider.delete(f"/api/homes/{home.pk}/invitations/{invitation['id']}").status_code == 404
    assert Invitation.objects.get(pk=invitation["id"]).status == "pending"
    assert APIClient().get("/api/invitations").status_code == 401


def test_inviting_again_refreshes_the_pending_invitation(api, home, invitee):
    first = invite(api, home, invitee.email, role="guest").json()
    Invitation.objects.filter(pk=first["id"]).update(expires_at=timezone.now() + datetime.timedelta(days=1))
    with capture_events(home.pk) as events:
        second = invite(api, home, invitee.email.upper(), role="member")
    assert second.status_code == 202
    assert second.json()["id"] == first["id"] and second.json()["role"] == "member"
    assert Invitation.objects.filter(home=home, email=invitee.email).count() == 1
    refreshed = Invitation.objects.get(pk=first["id"])
    assert refreshed.expires_at > timezone.now() + datetime.timedelta(days=13)
    assert [name for name, _ in events] == ["invitation:update"]
    assert [i["id"] for i in mine(client_for(invitee))] == [first["id"]]


def test_an_existing_member_accepting_changes_nothing(api, home):
    admin = f.add_member(home, role="admin")
    invitation = invite(api, home, admin.email, role="guest").json()
    with capture_events(home.pk) as events:
        response = accept(client_for(admin), invitation["id"])
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert Membership.objects.get(home=home, user=admin).role == "admin"
    assert Membership.objects.filter(home=home, user=admin).count() == 1
    assert [name for name, _ in events] == ["invitation:accepted"]


def test_role_rules_hold_for_invitations(home, invitee):
    admin_user = f.add_member(home, role="admin")
    admin = client_for(admin_user)
    refused = invite(admin, home, invitee.email, role="admin")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_not_assignable"
    assert not Invitation.objects.filter(home=home).exists()

    owner = client_for(home.owner)
    as_admin = invite(owner, home, invitee.email, role="admin").json()
    # An admin can neither revoke nor rewrite what only the owner could grant.
    revoke = admin.delete(f"/api/homes/{home.pk}/invitations/{as_admin['id']}")
    assert revoke.status_code == 403 and revoke.json()["error"]["code"] == "role_not_assignable"
    assert invite(admin, home, invitee.email, role="member").status_code == 403
    assert Invitation.objects.get(pk=as_admin["id"]).role == "admin"
    assert invite(owner, home, "owner@example.com", role="owner").status_code == 400

    # An invitation is worth no more than its inviter's current rights.
    other = f.UserFactory()
    from_admin = invite(admin, home, other.email, role="member").json()
    Membership.objects.filter(home=home, user=admin_user).update(role="member")
    demoted = accept(client_for(other), from_admin["id"])
    assert demoted.status_code == 403 and demoted.json()["error"]["code"] == "role_not_assignable"
    assert not Membership.objects.filter(home=home, user=other).exists()

    assert accept(client_for(invitee), as_admin["id"]).status_code == 200
    assert Membership.objects.get(home=home, user=invitee).role == "admin"


def test_members_and_guests_cannot_invite_or_see_invitations(home, invitee):
    for role in ("member", "guest"):
        client = client_for(f.add_member(home, role=role))
        response = invite(client, home, invitee.email)
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_required"
        assert client.get(f"/api/homes/{home.pk}/invitations").status_code == 403
    assert not Invitation.objects.filter(home=home).exists()


def test_admins_list_and_revoke_pending_invitations(api, home, invitee):
    invitation = invite(api, home, invitee.email).json()
    invite(api, home, "other@example.com", role="guest")
    listed = api.get(f"/api/homes/{home.pk}/invitations").json()["results"]
    assert sorted(i["email"] for i in listed) == ["other@example.com", "sam@example.com"]
    with capture_events(home.pk) as events:
        assert api.delete(f"/api/homes/{home.pk}/invitations/{invitation['id']}").status_code == 204
    assert [(name, data["invitationId"], data["status"]) for name, data in events] == [
        ("invitation:revoked", invitation["id"], "revoked")]
    assert [i["email"] for i in api.get(f"/api/homes/{home.pk}/invitations").json()["results"]] == ["other@example.com"]
    assert api.delete(f"/api/homes/{home.pk}/invitations/{invitation['id']}").status_code == 404
    sam = client_for(invitee)
    assert mine(sam) == []
    response = accept(sam, invitation["id"])
    assert response.status_code == 409 and response.json()["error"]["code"] == "invitation_not_pending"


def test_inviting_publishes_invitation_created(api, home):
    with capture_events(home.pk) as events:
        invitation = invite(api, home, "new@example.com", role="guest").json()
    assert events == [("invitation:created", {"invitationId": invitation["id"], "email": "new@example.com",
                                              "role": "guest", "status": "pending",
                                              "expiresAt": Invitation.objects.get(pk=invitation["id"]).expires_at.isoformat()})]


def test_the_invite_endpoint_is_throttled_per_account(api, home, settings):
    settings.INVITE_THROTTLE_RATE = "2/min"
    cache.clear()
    statuses = [invite(api, home, f"person{n}@example.com").status_code for n in range(3)]
    assert statuses == [202, 202, 429]
    throttled = invite(api, home, "person9@example.com")
    assert throttled.json()["error"]["code"] == "throttled" and int(throttled["Retry-After"]) > 0
    # Another admin of the home has an allowance of their own.
    assert invite(client_for(f.add_member(home, role="admin")), home, "person9@example.com").status_code == 202
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_make_one_membership(invitee):
    home = f.make_home(name="Casa")
    invitation = invite(client_for(home.owner), home, invitee.email).json()
    barrier = threading.Barrier(2)
    statuses = []

    def run():
        try:
            client = client_for(invitee)
            barrier.wait(timeout=10)
            statuses.append(accept(client, invitation["id"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 409]
    assert Membership.objects.filter(home=home, user=invitee).count() == 1
    assert Invitation.objects.get(pk=invitation["id"]).status == "accepted"
