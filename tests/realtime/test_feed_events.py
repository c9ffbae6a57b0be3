"""What arrives on the feed: live events from any process, resume, snapshot, presence, heartbeat."""
import base64
import os
import socket
import time

import pytest
from django.db import transaction

from devices import services as device_services
from homes import services as home_services
from realtime import publish
from realtime.events import PUBLISH_CHUNK, last_event_id, publish_many, stats_key
from veahome import redis_store
from tests import factories as f

from tests.conftest import client_for

from .conftest import access_token, publish_from_subprocess

pytestmark = pytest.mark.django_db(transaction=True)


def feed_events(client, count: int, skip=("presence:update",)) -> list[dict]:
    events = []
    while len(events) < count:
        message = client.next()
        if message["event"] not in skip:
            events.append(message)
    return events


def test_a_write_arrives_as_an_envelope_with_the_next_id(feed, home, owner):
    client = feed(owner, home.pk)
    before = client.ready["data"]["lastEventId"]
    room = home_services.room_create(home=home, name="Office")
    event = client.next_event("room:created")
    assert event["data"] == {"roomId": str(room.pk), "name": "Office"}
    assert event["homeId"] == str(home.pk)
    assert event["id"] == before + 1
    assert event["ts"].startswith(time.strftime("%Y-", time.gmtime()))


def test_event_published_by_another_process_arrives(feed, home, owner):
    client = feed(owner, home.pk)
    publish_from_subprocess(home.pk, "device:update", {"deviceId": "d1", "state": {"isActive": True}})
    event = client.next_event("device:update", timeout=30)
    assert event["data"] == {"deviceId": "d1", "state": {"isActive": True}}


def test_every_member_socket_gets_the_event_and_other_homes_do_not(feed, home, owner):
    member = f.add_member(home, role="guest")
    stranger = f.UserFactory()
    elsewhere = f.make_home(stranger, name="Elsewhere")
    sockets = [feed(owner, home.pk), feed(owner, home.pk, how="message"), feed(member, home.pk)]
    other = feed(stranger, elsewhere.pk)
    publish(home.pk, "hub:status", {"hubId": "h1", "status": "online"})
    publish(elsewhere.pk, "hub:status", {"hubId": "h2", "status": "offline"})
    for client in sockets:
        assert client.next_event("hub:status")["data"]["hubId"] == "h1"
    assert other.next_event("hub:status")["data"]["hubId"] == "h2"


def test_a_batch_of_many_homes_events_arrives_in_order_with_ids_of_each_home(feed, home, owner):
    # More events than one script call takes, interleaved between two homes.
    elsewhere = f.make_home(owner, name="Elsewhere")
    mine, theirs = feed(owner, home.pk), feed(owner, elsewhere.pk)
    first_mine, first_theirs = mine.ready["data"]["lastEventId"], theirs.ready["data"]["lastEventId"]
    count = PUBLISH_CHUNK + 50
    with transaction.atomic():
        publish_many([(home.pk if n % 3 else elsewhere.pk, "device:update", {"n": n}) for n in range(count)])
    got_mine, got_theirs = feed_events(mine, count - count // 3 - 1), feed_events(theirs, count // 3 + 1)
    assert [e["data"]["n"] for e in got_mine] == [n for n in range(count) if n % 3]
    assert [e["data"]["n"] for e in got_theirs] == [n for n in range(count) if not n % 3]
    assert [e["id"] for e in got_mine] == list(range(first_mine + 1, first_mine + 1 + len(got_mine)))
    assert [e["id"] for e in got_theirs] == list(range(first_theirs + 1, first_theirs + 1 + len(got_theirs)))
    assert {e["homeId"] for e in got_theirs} == {str(elsewhere.pk)}
    assert last_event_id(home.pk) == got_mine[-1]["id"]


def test_event_is_sent_only_after_commit_and_never_on_rollback(home):
    start = last_event_id(home.pk)
    with transaction.atomic():
        publish(home.pk, "device:update", {"deviceId": "d1"})
        assert last_event_id(home.pk) == start
    assert last_event_id(home.pk) == start + 1
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(home.pk, "device:update", {"deviceId": "d2"})
        raise RuntimeError("rolled back")
    assert last_event_id(home.pk) == start + 1


def test_publish_rejects_data_that_is_not_json(home):
    with pytest.raises(TypeError):
        publish(home.pk, "device:update", {"when": object()})
    with pytest.raises(ValueError):
        publish(home.pk, "device:update", {"value": float("nan")})


def test_resume_delivers_exactly_the_missed_events_in_order(feed, home, owner):
    watcher = feed(f.add_member(home, role="guest"), home.pk)  # keeps presence stable for owner's leave
    client = feed(owner, home.pk)
    publish(home.pk, "device:update", {"n": 0})
    seen = client.next_event("device:update")
    client.close()
    for n in range(1, 6):
        publish(home.pk, "device:update", {"n": n})
    assert [e["data"]["n"] for e in feed_events(watcher, 6, skip=("presence:update",))] == [0, 1, 2, 3, 4, 5]

    again = feed(owner, home.pk, last_event_id=seen["id"], wait_ready=False)
    replayed = []
    while (message := again.next())["event"] != "session:ready":
        replayed.append(message)
    ids = [m["id"] for m in replayed]
    assert ids == list(range(seen["id"] + 1, seen["id"] + 1 + len(ids)))  # no gap, no repeat
    assert [m["data"]["n"] for m in replayed if m["event"] == "device:update"] == [1, 2, 3, 4, 5]
    assert message["data"]["replayed"] == len(replayed)
    assert message["data"]["lastEventId"] == ids[-1]
    publish(home.pk, "device:update", {"n": 6})
    assert again.next_event("device:update")["data"]["n"] == 6


def test_resume_from_an_id_the_home_never_issued_says_resync(feed, home, owner):
    publish(home.pk, "device:update", {"n": 1})
    client = feed(owner, home.pk, last_event_id=last_event_id(home.pk) + 100, wait_ready=False)
    resync = client.next_event("session:resync")
    assert resync["data"]["reason"] == "unknown_event_id"
    assert resync["data"]["lastEventId"] == last_event_id(home.pk)


def test_resume_past_the_history_age_says_resync(feed, home, owner, asgi_server_factory):
    server = asgi_server_factory(REALTIME_HISTORY_SECONDS=1)
    client = feed(owner, home.pk, server=server)
    last = client.ready["data"]["lastEventId"]
    client.close()
    publish(home.pk, "device:update", {"n": 1})
    time.sleep(1.5)
    again = feed(owner, home.pk, server=server, last_event_id=last, wait_ready=False)
    assert again.next_event("session:resync")["data"]["reason"] == "history_expired"
    assert again.next_event("session:ready")["data"]["replayed"] == 0


def test_snapshot_then_subscribe_misses_nothing(feed, home, owner, world):
    snapshot = client_for(owner).get(f"/api/homes/{home.pk}/snapshot").json()
    assert {d["name"] for d in snapshot["devices"]} == {"Lamp", "TV"}
    assert {r["name"] for r in snapshot["rooms"]} == {"Living room", "Kitchen"}
    assert snapshot["hubs"][0]["id"] == str(world["hub"].pk)
    assert snapshot["lastEventId"] == last_event_id(home.pk)
    device_services.device_update(device=world["lamp"], name="Desk lamp")
    client = feed(owner, home.pk, last_event_id=snapshot["lastEventId"])
    assert client.ready["data"]["replayed"] >= 1
    client.ws.close()


def test_snapshot_is_404_for_an_outsider(home, outsider):
    assert outsider.get(f"/api/homes/{home.pk}/snapshot").status_code == 404


def test_presence_join_and_leave(feed, home, owner):
    member = f.add_member(home, role="member")
    owner_feed = feed(owner, home.pk)
    assert owner_feed.ready["data"]["online"] == [str(owner.pk)]
    member_feed = feed(member, home.pk)
    joined = owner_feed.next_event("presence:update")
    assert joined["data"]["userId"] == str(member.pk) and joined["data"]["status"] == "online"
    assert sorted(joined["data"]["online"]) == sorted([str(owner.pk), str(member.pk)])
    second = feed(member, home.pk)  # a second device of the same person: no change
    second.close()
    member_feed.close()
    left = owner_feed.next_event("presence:update")
    assert left["data"] == {"userId": str(member.pk), "status": "offline", "online": [str(owner.pk)]}


def test_silent_socket_is_closed_by_heartbeat_and_leaves_presence(feed, home, owner, asgi_server_factory):
    server = asgi_server_factory(REALTIME_HEARTBEAT_TIMEOUT=2)
    member = f.add_member(home, role="member")
    pinging = feed(owner, home.pk, server=server)
    silent = feed(member, home.pk, server=server)
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        pinging.send(action="ping")
        time.sleep(0.5)
    assert silent.close_code() == (4408, "heartbeat_timeout")
    left = pinging.next_event("presence:update", status="offline")
    assert left["data"] == {"userId": str(member.pk), "status": "offline", "online": [str(owner.pk)]}
    pinging.send(action="ping")
    assert pinging.next_event("pong")["data"]["lastEventId"] >= left["id"]


def stalled_socket(server, home_id, token) -> socket.socket:
    """A client that completes the websocket handshake and then never reads another byte."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/homes/{home_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


def test_slow_client_is_disconnected_4429_logged_and_counted(home, owner, asgi_server_factory, settings, feed):
    settings.REALTIME_HISTORY_MAXLEN = 10  # keeps Redis small; this test is about live delivery
    server = asgi_server_factory(REALTIME_CLIENT_BUFFER=5)
    overflows_before = int(redis_store.feed().hget(stats_key(), "overflows") or 0)
    watcher = feed(owner, home.pk, server=server)
    stalled = stalled_socket(server, home.pk, access_token(owner))
    blob = "x" * 50_000
    n = 0
    deadline = time.monotonic() + 60
    while "fell 5 events behind" not in server.logs() and time.monotonic() < deadline:
        publish(home.pk, "device:update", {"n": n, "blob": blob})
        n += 1
        time.sleep(0.002)
    stalled.close()
    assert "fell 5 events behind" in server.logs()
    assert int(redis_store.feed().hget(stats_key(), "overflows")) > overflows_before
    # The client that keeps reading is unaffected: it has every event, in order.
    assert [watcher.next_event("device:update")["data"]["n"] for _ in range(n)] == list(range(n))
