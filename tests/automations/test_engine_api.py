"""The automations API: runs by hand, run lists and traces, roles, and field-level 400s for every
bad document."""
import uuid

import pytest

from automations.models import Automation, AutomationRun
from tests import factories as f

from .engine_support import automation, turn_on


def url(home, *parts):
    return "/".join([f"/api/homes/{home.pk}/automations", *map(str, parts)])


pytestmark = pytest.mark.django_db(transaction=True)


def test_run_by_hand_lists_runs_and_shows_a_trace(api, place):
    home, lamp, porch = place["home"], place["lamp"], place["porch"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(lamp.pk), "equals": True},
                      conditions=[{"type": "device_state", "deviceId": str(porch.pk), "equals": True}],
                      actions=[turn_on(porch)])

    refused = api.post(url(home, auto.pk, "run"), {}, format="json")
    forced = api.post(url(home, auto.pk, "run"), {"skipConditions": True}, format="json")

    assert refused.status_code == 200, refused.content
    assert refused.json()["status"] == "conditions_failed"
    assert forced.json()["status"] == "succeeded"
    assert forced.json()["trace"]["conditions"] == "skipped"
    [device] = forced.json()["trace"]["actions"][0]["devices"]
    assert device["status"] in ("pending", "sent") and device["commandId"]
    listed = api.get(url(home, auto.pk, "runs")).json()
    assert [r["id"] for r in listed["results"]] == [forced.json()["id"], refused.json()["id"]]
    detail = api.get(url(home, auto.pk, "runs", forced.json()["id"]))
    assert detail.status_code == 200 and detail.json()["trigger"]["kind"] == "manual"
    assert api.get(url(home, auto.pk, "runs", uuid.uuid4())).status_code == 404
    assert api.get(url(home, auto.pk, "runs", "nope")).status_code == 404


def test_guests_read_runs_but_cannot_run(place, as_role, outsider):
    home = place["home"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(place["lamp"].pk)},
                      actions=[turn_on(place["porch"])])
    guest = as_role("guest")
    assert guest.post(url(home, auto.pk, "run"), {}, format="json").status_code == 403
    assert guest.get(url(home, auto.pk, "runs")).status_code == 200
    assert outsider.post(url(home, auto.pk, "run"), {}, format="json").status_code == 404
    assert outsider.get(url(home, auto.pk, "runs")).status_code == 404
    assert not AutomationRun.objects.exists()


@pytest.mark.parametrize("document,field", [
    ({"trigger": {"type": "sun", "event": "sunset"}}, "trigger"),
    ({"trigger": {"type": "sun", "event": "noon"}}, "trigger.event"),
    ({"trigger": {"type": "device", "deviceId": "LAMP", "for": 60}}, "trigger.for"),
    ({"trigger": {"type": "device", "deviceId": "LAMP", "equals": True, "for": 90000}}, "trigger.for"),
    ({"trigger": {"type": "hub", "hubId": "HUB", "status": "asleep"}}, "trigger.status"),
    ({"actions": [{"type": "wait", "deviceId": "LAMP", "equals": True}]}, "actions.0.timeout"),
    ({"actions": [{"type": "delay", "seconds": 90000}]}, "actions.0.seconds"),
    ({"conditions": [{"type": "sun", "after": "sunset"}]}, "conditions.0"),
    ({"conditions": [{"type": "time_window", "after": "22:00", "before": "22:00"}]}, "conditions.0.before"),
    ({"conditions": [{"type": "and", "conditions": []}]}, "conditions.0.conditions"),
    ({"mode": "sometimes"}, "mode"),
    ({"maxRuns": 0}, "maxRuns"),
])
def test_bad_documents_are_400s_naming_the_field(api, place, document, field):
    home = place["home"]
    lamp, hub = str(place["lamp"].pk), str(place["hub"].pk)
    body = {"name": "Bad", "trigger": {"type": "device", "deviceId": lamp}, "actions": [turn_on(place["porch"])]}
    for key, value in document.items():
        text = str(value).replace("'LAMP'", repr(lamp)).replace("'HUB'", repr(hub))
        body[key] = eval(text) if isinstance(value, (dict, list)) else value  # noqa: S307 (the test's own literals)
    response = api.post(f"/api/homes/{home.pk}/automations", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"], response.json()
    assert not Automation.objects.filter(name="Bad").exists()


def test_conditions_nest_at_most_five_deep(api, place):
    nested = {"type": "day_of_week", "days": ["monday"]}
    for _ in range(6):
        nested = {"type": "and", "conditions": [nested]}
    response = api.post(f"/api/homes/{place['home'].pk}/automations", {
        "name": "Deep", "trigger": {"type": "device", "deviceId": str(place["lamp"].pk)},
        "conditions": [nested], "actions": [turn_on(place["porch"])]}, format="json")
    assert response.status_code == 400
    assert any("conditions" in key for key in response.json()["error"]["fields"])


def test_another_homes_devices_are_refused(api, place):
    other = f.make_home(name="Other")
    stranger = f.DeviceFactory(room=f.RoomFactory(home=other), hub=f.HubFactory(home=other))
    response = api.post(f"/api/homes/{place['home'].pk}/automations", {
        "name": "Reach", "trigger": {"type": "device", "deviceId": str(place["lamp"].pk)},
        "actions": [turn_on(stranger)]}, format="json")
    assert response.status_code == 400
    assert "actions.0.deviceId" in response.json()["error"]["fields"]
