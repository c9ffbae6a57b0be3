"""Who may open the home feed, and how a socket ends when that changes."""
import time
from datetime import timedelta

import pytest
from websockets.exceptions import InvalidStatus

from homes import services as home_services
from tests import factories as f

from .conftest import access_token

pytestmark = pytest.mark.django_db(transaction=True)


def test_authorization_header_opens_the_feed_of_the_home(feed, home, owner):
    client = feed(owner, home.pk, how="header")
    assert client.ready["data"]["homeId"] == str(home.pk)
    assert client.ready["data"]["userId"] == str(owner.pk)


def test_token_as_subprotocol_on_plain_ws_path_with_home_id_query(feed, home, owner):
    client = feed(owner, home.pk, how="subprotocol", path=f"/ws?homeId={home.pk}")
    assert client.ws.subprotocol == "veahome.v1"
    assert client.ready["data"]["homeId"] == str(home.pk)


def test_first_message_auth(feed, home, owner):
    client = feed(owner, home.pk, how="message")
    assert client.ready["data"]["userId"] == str(owner.pk)


def test_first_message_auth_names_the_home_on_plain_ws_path(feed, home, owner):
    client = feed(owner, home.pk, how="none", path="/ws", wait_ready=False)
    client.send(action="auth", token=access_token(owner), homeId=str(home.pk))
    assert client.next_event("session:ready")["data"]["homeId"] == str(home.pk)


def test_no_auth_message_in_time_closes_4401(feed, home):
    client = feed(None, home.pk, how="none", wait_ready=False)
    assert client.close_code() == (4401, "auth_timeout")


def test_other_message_before_auth_closes_4401(feed, home):
    client = feed(None, home.pk, how="none", wait_ready=False)
    client.send(action="ping")
    assert client.close_code() == (4401, "auth_required")


def test_bad_token_closes_4401(feed, home):
    client = feed(None, home.pk, how="header", token="not.a.jwt", wait_ready=False)
    assert client.close_code() == (4401, "invalid_token")


def test_expired_token_closes_4401(feed, home, owner):
    token = access_token(owner, lifetime=timedelta(seconds=-5))
    client = feed(owner, home.pk, how="subprotocol", token=token, wait_ready=False)
    assert client.close_code() == (4401, "invalid_token")


def test_outsider_is_refused_4404(feed, home):
    stranger = f.UserFactory()
    f.make_home(stranger, name="Theirs")
    client = feed(stranger, home.pk, wait_ready=False)
    assert client.close_code() == (4404, "home_not_found")


def test_unknown_or_malformed_home_4404_and_missing_home_4400(feed, owner):
    assert feed(owner, "00000000-0000-0000-0000-000000000000", wait_ready=False).close_code()[0] == 4404
    assert feed(owner, "not-a-uuid", wait_ready=False).close_code()[0] == 4404
    assert feed(owner, None, path="/ws", wait_ready=False).close_code() == (4400, "home_id_required")


def test_query_token_is_ignored_unless_enabled(feed, home, owner):
    client = feed(owner, home.pk, how="query", wait_ready=False)
    assert client.close_code() == (4401, "auth_timeout")


def test_query_token_when_enabled_works_and_is_not_logged(feed, home, owner, asgi_server_factory):
    server = asgi_server_factory(REALTIME_QUERY_TOKEN="true")
    token = access_token(owner)
    client = feed(owner, home.pk, how="query", token=token, server=server)
    assert client.ready["data"]["userId"] == str(owner.pk)
    client.close()
    logs = server.logs()
    assert "WebSocket /ws/homes/" in logs  # the server does log the request line...
    assert token not in logs  # ...but never the token


def test_browser_origin_must_be_allowed_native_clients_send_none(feed, home, owner):
    with pytest.raises(InvalidStatus) as refused:
        feed(owner, home.pk, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    assert feed(owner, home.pk, origin="http://localhost").ready["data"]["homeId"] == str(home.pk)
    assert feed(owner, home.pk, origin=None).ready["data"]["homeId"] == str(home.pk)


def test_token_expiry_closes_the_open_socket(feed, home, owner):
    client = feed(owner, home.pk, token=access_token(owner, lifetime=timedelta(seconds=2)))
    assert client.close_code(timeout=10) == (4401, "token_expired")


def test_in_band_token_refresh_keeps_the_socket(feed, home, owner):
    client = feed(owner, home.pk, token=access_token(owner, lifetime=timedelta(seconds=2)))
    client.send(action="auth", token=access_token(owner))
    assert client.next_event("session:refreshed")["data"]["expiresAt"]
    time.sleep(2.5)  # past the first token's expiry
    client.send(action="ping")
    assert client.next_event("pong")["event"] == "pong"


def test_removed_member_gets_the_event_then_is_closed_4403(feed, home, owner):
    member = f.add_member(home, role="member")
    owner_feed = feed(owner, home.pk)
    member_feed = feed(member, home.pk)
    membership = home.memberships.get(user=member)
    home_services.membership_remove(membership=membership, actor=owner, actor_role="owner")
    removed = member_feed.next_event("member:removed")
    assert removed["data"]["userId"] == str(member.pk)
    assert member_feed.close_code() == (4403, "membership_revoked")
    assert owner_feed.next_event("member:removed")["data"]["userId"] == str(member.pk)
    owner_feed.send(action="ping")
    assert owner_feed.next_event("pong")["event"] == "pong"


def test_deleting_the_home_closes_every_socket_4410(feed, home, owner):
    home_id = str(home.pk)
    client = feed(owner, home_id)
    home_services.home_delete(home=home, actor=owner)
    assert client.next_event("home:deleted")["data"]["homeId"] == home_id
    assert client.close_code() == (4410, "home_deleted")
