"""Every write of the REST API publishes exactly its events to the home's feed, once it has committed."""
import datetime

import pytest

from devices.models import Command, LearnSession
from homes.models import Membership
from realtime.events import last_event_id
from tests import factories as f
from tests.api_checks import ENDPOINTS
from tests.conftest import client_for
from tests.events import capture_events, events_since

pytestmark = pytest.mark.django_db(transaction=True)


def _id(response) -> str:
    return response.json()["id"]


def _hub(w, **changes) -> dict:
    hub = w["hub"]
    return {"hubId": str(hub.pk), "status": hub.status, "wifiConnected": hub.wifi_connected,
            "lastSeenAt": None} | changes


def _device(w, device_id, *, name, room, hub=None, kind="light", category="Zigbee") -> dict:
    return {"deviceId": device_id, "roomId": str(room.pk), "hubId": str(hub.pk) if hub else None, "name": name,
            "type": kind, "category": category, "state": {"isActive": False, "value": None}}


def _unpaired(w) -> tuple:
    return ("hub:unpaired", {"hubId": str(w["hub"].pk), "deviceIds": sorted([str(w["lamp"].pk), str(w["tv"].pk)])})


def _member(w, role) -> dict:
    friend = w["friend"]
    return {"membershipId": str(friend.pk), "userId": str(friend.user_id), "role": role}


def _command_events(w, response) -> list:
    command = Command.objects.get(pk=response.json()["commandId"])
    base = {"commandId": str(command.pk), "deviceId": str(w["lamp"].pk), "desiredState": {"isActive": True},
            "finishedAt": None}
    return [("command:status", base | {"status": "pending", "sentAt": None}),
            ("command:status", base | {"status": "sent", "sentAt": command.sent_at.isoformat()})]


def _learn_events(w, response) -> list:
    session = LearnSession.objects.get(pk=response.json()["sessionId"])
    return [("learn:status", {"sessionId": str(session.pk), "deviceId": str(w["tv"].pk), "hubId": str(w["hub"].pk),
                              "action": "OFF", "status": "open", "expiresAt": session.expires_at.isoformat()})]


def _fanout_command_events(w, outcomes) -> list:
    """Recorded together, sent together: each command's pending, then the lamp's command is
    sent to its hub and the TV's IR signal is assumed to have worked."""
    commands = [Command.objects.get(pk=o["commandId"]) for o in outcomes]
    bases = [{"commandId": str(c.pk), "deviceId": str(c.device_id), "desiredState": {"isActive": True},
              "finishedAt": None} for c in commands]
    events = [("command:status", base | {"status": "pending", "sentAt": None}) for base in bases]
    for command, base in zip(commands, bases):
        if command.device_id == w["lamp"].pk:
            events.append(("command:status", base | {"status": "sent", "sentAt": command.sent_at.isoformat()}))
    for command, base in zip(commands, bases):
        if command.device_id == w["tv"].pk:
            events.append(("command:status", base | {"status": "assumed", "sentAt": command.sent_at.isoformat(),
                                                     "finishedAt": command.finished_at.isoformat()}))
            events.append(("device:update", _device(w, str(w["tv"].pk), name="TV", room=w["living"], hub=w["hub"],
                                                    kind="tv", category="IR")
                           | {"state": {"isActive": True, "value": None}, "assumed": True}))
    return events


def _scene_activate_events(w, response) -> list:
    run = response.json()
    shown = [o | {"status": Command.objects.get(pk=o["commandId"]).status} for o in run["outcomes"]]
    return _fanout_command_events(w, run["outcomes"]) + [("scene:activated", {
        "sceneId": str(w["scene"].pk), "name": "Scene", "runId": run["id"], "source": "user", "isActive": True,
        "outcomes": shown})]


def _automation_run_events(w, response) -> list:
    run = response.json()
    [step] = run["trace"]["actions"]
    command = Command.objects.get(pk=step["devices"][0]["commandId"])
    base = {"commandId": str(command.pk), "deviceId": str(w["lamp"].pk), "desiredState": {"isActive": False},
            "finishedAt": None}
    return [("command:status", base | {"status": "pending", "sentAt": None}),
            ("command:status", base | {"status": "sent", "sentAt": command.sent_at.isoformat()}),
            ("automation:run", {"automationId": str(w["automation"].pk), "name": "Automation", "runId": run["id"],
                                "status": "succeeded", "trigger": "manual", "step": 1})]


def _group_control_events(w, response) -> list:
    return _fanout_command_events(w, response.json()["outcomes"])


def _invitation_event(invitation: dict, status: str = "pending") -> dict:
    expires_at = datetime.datetime.fromisoformat(invitation["expiresAt"].replace("Z", "+00:00"))
    return {"invitationId": invitation["id"], "email": invitation["email"], "role": invitation["role"],
            "status": status, "expiresAt": expires_at.isoformat()}


def _token_prefix(response) -> str:
    return response.json()["token"].removeprefix("vht_").split(".")[0]


# endpoint name -> the events it publishes, given the world and the response.
EXPECTED = {
    "home update": lambda w, r: [("home:update", {"homeId": str(w["home"].pk), "changed": ["name"]})],
    "home delete": lambda w, r: [_unpaired(w), ("home:deleted", {"homeId": str(w["home"].pk)})],
    "layout put": lambda w, r: [("home:layout", {"homeId": str(w["home"].pk),
                                                 "layout": {str(w["living"].pk): {"x": 0, "y": 0}}})],
    "room create": lambda w, r: [("room:created", {"roomId": _id(r), "name": "Office"})],
    "room update": lambda w, r: [("room:update", {"roomId": str(w["living"].pk), "name": "Lounge",
                                                  "changed": ["name"]})],
    "room delete": lambda w, r: [("room:deleted", {"roomId": str(w["kitchen"].pk), "name": "Kitchen"})],
    "hub rename": lambda w, r: [("hub:update", _hub(w) | {"name": "Upstairs"})],
    "hub rooms": lambda w, r: [("hub:rooms", {"hubId": str(w["hub"].pk), "roomIds": [str(w["living"].pk)]})],
    "hub wifi": lambda w, r: [("hub:status", _hub(w, status="connecting", wifiConnected=False))],
    "hub unpair": lambda w, r: [_unpaired(w)],
    "hub delete (unpair)": lambda w, r: [_unpaired(w)],
    "device create": lambda w, r: [("device:created", _device(w, _id(r), name="New lamp", room=w["living"]))],
    "device update": lambda w, r: [("device:update", _device(w, str(w["lamp"].pk), name="Desk lamp",
                                                             room=w["living"], hub=w["hub"]))],
    "device delete": lambda w, r: [("device:deleted", {"deviceId": str(w["lamp"].pk)})],
    "group create": lambda w, r: [("group:created", {"groupId": _id(r), "name": "All",
                                                      "deviceIds": [str(w["lamp"].pk)]})],
    "group update": lambda w, r: [("group:update", {"groupId": str(w["group"].pk), "name": "Two",
                                                    "deviceIds": [str(w["tv"].pk)]})],
    "group delete": lambda w, r: [("group:deleted", {"groupId": str(w["group"].pk)})],
    "scene create": lambda w, r: [("scene:created", {"sceneId": _id(r), "name": "Movie"})],
    "scene update": lambda w, r: [("scene:update", {"sceneId": str(w["scene"].pk), "name": "Night"})],
    "scene delete": lambda w, r: [("scene:deleted", {"sceneId": str(w["scene"].pk), "name": "Scene"})],
    "schedule create": lambda w, r: [("schedule:created", {"scheduleId": _id(r), "name": "Wake"})],
    "schedule update": lambda w, r: [("schedule:update", {"scheduleId": str(w["schedule"].pk), "name": "Schedule"})],
    "schedule delete": lambda w, r: [("schedule:deleted", {"scheduleId": str(w["schedule"].pk), "name": "Schedule"})],
    "automation create": lambda w, r: [("automation:created", {"automationId": _id(r), "name": "Auto"})],
    "automation update": lambda w, r: [("automation:update", {"automationId": str(w["automation"].pk),
                                                              "name": "Auto 2"})],
    "automation delete": lambda w, r: [("automation:deleted", {"automationId": str(w["automation"].pk),
                                                               "name": "Automation"})],
    "tariff create": lambda w, r: [("tariff:created", {"tariffId": _id(r), "validFrom": "2030-01-01"})],
    "tariff update": lambda w, r: [("tariff:update", {"tariffId": str(w["future_tariff"].pk)})],
    "tariff delete": lambda w, r: [("tariff:deleted", {"tariffId": str(w["future_tariff"].pk)})],
    "budget set": lambda w, r: [("budget:update", {"kind": "cost", "amount": "80.00"})],
    "budget delete": lambda w, r: [("budget:update", {"kind": None, "amount": None})],
    "ingestion token issue": lambda w, r: [("device:ingestion-token", {"deviceId": str(w["lamp"].pk),
                                                                       "prefix": _token_prefix(r)})],
    "ingestion token revoke": lambda w, r: [("device:ingestion-token", {"deviceId": str(w["lamp"].pk),
                                                                        "prefix": None})],
    "member invite": lambda w, r: [("invitation:created", _invitation_event(r.json()))],
    "invitation revoke": lambda w, r: [("invitation:revoked", _invitation_event(
        {"id": str(w["invitation"].pk), "email": "invitee@example.com", "role": "guest",
         "expiresAt": w["invitation"].expires_at.isoformat()}, status="revoked"))],
    "member update": lambda w, r: [("member:update", _member(w, "member"))],
    "member replace": lambda w, r: [("member:update", _member(w, "member"))],
    "member remove": lambda w, r: [("member:removed", _member(w, "guest"))],
    "home replace": lambda w, r: [("home:update", {"homeId": str(w["home"].pk), "changed": ["name"]})],
    "room replace": lambda w, r: [("room:update", {"roomId": str(w["living"].pk), "name": "Lounge",
                                                   "changed": ["name"]})],
    "hub replace": lambda w, r: [("hub:update", _hub(w) | {"name": "Upstairs"})],
    "hub rooms replace": lambda w, r: [("hub:rooms", {"hubId": str(w["hub"].pk), "roomIds": [str(w["living"].pk)]})],
    "device replace": lambda w, r: [("device:update", _device(w, str(w["lamp"].pk), name="New lamp",
                                                              room=w["living"], hub=w["hub"]))],
    "group rename": lambda w, r: [("group:update", {"groupId": str(w["group"].pk), "name": "Three"})],
    "scene rename": lambda w, r: [("scene:update", {"sceneId": str(w["scene"].pk), "name": "Late"})],
    "schedule replace": lambda w, r: [("schedule:update", {"scheduleId": str(w["schedule"].pk), "name": "Wake"})],
    "automation rename": lambda w, r: [("automation:update", {"automationId": str(w["automation"].pk),
                                                              "name": "Auto 3"})],
    "tariff replace": lambda w, r: [("tariff:update", {"tariffId": str(w["future_tariff"].pk)})],
    "budget replace": lambda w, r: [("budget:update", {"kind": "kwh", "amount": "300.00"})],
    "device control": _command_events,
    "device learn": _learn_events,
    "scene activate": _scene_activate_events,
    "group control": _group_control_events,
    "automation run": _automation_run_events,
    "alert rule update": lambda w, r: [("alert-rule:update", {"kind": "battery_low", "enabled": False,
                                                              "severity": "warning", "delaySeconds": 0})],
    "contact create": lambda w, r: [("contact:created", {"contactId": _id(r), "name": "Ben", "tier": 1,
                                                         "enabled": True})],
    "contact update": lambda w, r: [("contact:update", {"contactId": str(w["contact"].pk), "name": "Ana", "tier": 2,
                                                        "enabled": True})],
    "contact replace": lambda w, r: [("contact:update", {"contactId": str(w["contact"].pk), "name": "Ana B",
                                                         "tier": 1, "enabled": True})],
    "contact delete": lambda w, r: [("contact:deleted", {"contactId": str(w["contact"].pk), "name": "Ana", "tier": 1,
                                                         "enabled": True})],
    "notification policy update": lambda w, r: [("notification-policy:update", {"changed": ["escalateAfterMinutes"]})],
}
WRITES = [e for e in ENDPOINTS if e.method != "get"]


def _comparable(events: list) -> list:
    # Which devices a hub had is a set; the service reads them in no particular order.
    return [(name, data | {"deviceIds": sorted(data["deviceIds"])}) if name == "hub:unpaired" else (name, data)
            for name, data in events]


def test_every_write_endpoint_has_its_events_listed():
    assert sorted(e.name for e in WRITES) == sorted(EXPECTED)


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.name for e in WRITES])
def test_rest_write_publishes_exactly_its_events(endpoint, world, api):
    endpoint.url(world)  # builds what the endpoint acts on (a future tariff, a budget) before the capture
    with capture_events(world["home"].pk) as events:
        response = endpoint.call(api, world)
    assert response.status_code < 300, response.content
    assert _comparable(events) == EXPECTED[endpoint.name](world, response)


def test_membership_writes_publish_member_events(home, api):
    guest = f.UserFactory()
    before = last_event_id(home.pk)
    invitation = api.post(f"/api/homes/{home.pk}/members", {"email": guest.email, "role": "guest"}).json()
    joined = client_for(guest).post(f"/api/invitations/{invitation['id']}/accept")
    assert joined.status_code == 200, joined.content
    added = Membership.objects.get(home=home, user=guest)
    api.patch(f"/api/homes/{home.pk}/members/{added.pk}", {"role": "member"})
    api.delete(f"/api/homes/{home.pk}/members/{added.pk}")
    events = events_since(home.pk, before)
    membership = {"membershipId": str(added.pk), "userId": str(guest.pk)}
    invited = _invitation_event(invitation)
    assert [(e["event"], e["data"]) for e in events] == [
        ("invitation:created", invited), ("member:added", membership | {"role": "guest"}),
        ("invitation:accepted", invited | {"status": "accepted"}),
        ("member:update", membership | {"role": "member"}), ("member:removed", membership | {"role": "member"}),
    ]
    assert [e["id"] for e in events] == list(range(before + 1, before + 6))


def test_failed_write_publishes_nothing(world, api):
    with capture_events(world["home"].pk) as events:
        response = api.post(f"/api/homes/{world['home'].pk}/rooms", {"name": ""})
    assert response.status_code == 400
    assert events == []
