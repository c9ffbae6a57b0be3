"""The alerts API: across the caller's homes and per home, the steps with who and when, 409 for
a step the status does not allow, the rules with field-level 400s, and the home-scoping rule."""
import pytest

from alerts.models import Alert
from tests import factories as f
from tests.conftest import client_for
from tests.events import capture_events

from .conftest import ingest_batch, telemetry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def leak_alert(place):
    ingest_batch([telemetry(place["leak"], {"leak": 1})])
    return Alert.objects.get(home=place["home"])


def test_the_list_shows_the_callers_homes_only_and_filters(api, owner, place, leak_alert):
    stranger = f.UserFactory()
    elsewhere = f.make_home(stranger, name="Elsewhere")
    ingest_batch([telemetry(f.DeviceFactory(room=f.RoomFactory(home=elsewhere), hub=f.HubFactory(home=elsewhere),
                                            type="sensor", category="Sensor"), {"smoke": 1})])
    body = api.get("/api/alerts").json()
    assert [a["id"] for a in body["results"]] == [str(leak_alert.pk)]
    first = body["results"][0]
    assert (first["homeId"], first["kind"], first["severity"], first["status"], first["occurrences"]) == (
        str(place["home"].pk), "water_leak", "critical", "open", 1)
    assert first["resolution"] is None and first["closedAt"] is None
    assert api.get(f"/api/alerts?homeId={place['home'].pk}&severity=critical&status=open").json()["count"] == 1
    assert api.get("/api/alerts?severity=info").json()["count"] == 0
    assert api.get(f"/api/alerts?homeId={elsewhere.pk}").json()["count"] == 0
    response = api.get("/api/alerts?severity=urgent")
    assert response.status_code == 400 and "severity" in response.json()["error"]["fields"]
    assert api.get(f"/api/homes/{place['home'].pk}/alerts").json()["count"] == 1
    assert api.get(f"/api/homes/{place['home'].pk}/alerts?status=closed").json()["count"] == 0


def test_ack_escalate_close_record_who_and_when_and_illegal_steps_are_409(api, owner, place, leak_alert):
    url = f"/api/alerts/{leak_alert.pk}"
    with capture_events(place["home"].pk) as events:
        acked = api.post(f"{url}/ack", {}, format="json")
        again = api.post(f"{url}/ack", {}, format="json")
        escalated = api.post(f"{url}/escalate")
        closed = api.post(f"{url}/close", {"note": "Plumber came, pipe fixed."}, format="json")
        late = api.post(f"{url}/escalate")

    assert acked.status_code == 200, acked.content
    assert acked.json()["status"] == "acknowledged" and acked.json()["acknowledgedById"] == str(owner.pk)
    assert acked.json()["acknowledgedAt"] is not None
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "alert_transition"
    assert again.json()["error"]["fields"] == {"status": ["acknowledged"]}
    assert escalated.json()["status"] == "escalated" and escalated.json()["escalatedById"] == str(owner.pk)
    body = closed.json()
    assert (body["status"], body["resolution"], body["closeNote"], body["closedById"]) == (
        "closed", "closed", "Plumber came, pipe fixed.", str(owner.pk))
    assert late.status_code == 409 and late.json()["error"]["fields"] == {"status": ["closed"]}
    assert [d["status"] for n, d in events if n == "alert:update"] == ["acknowledged", "escalated", "closed"]


def test_guests_read_but_take_no_step_and_outsiders_see_nothing(place, leak_alert, outsider):
    guest = client_for(f.add_member(place["home"], role="guest"))
    member = client_for(f.add_member(place["home"], role="member"))
    url = f"/api/alerts/{leak_alert.pk}"
    assert guest.get(url).status_code == 200
    assert guest.post(f"{url}/ack").status_code == 403
    assert member.post(f"{url}/ack").status_code == 200
    assert outsider.get(url).status_code == 404
    assert outsider.post(f"{url}/close").status_code == 404
    assert outsider.get(f"/api/homes/{place['home'].pk}/alerts").status_code == 404
    assert outsider.get(f"/api/homes/{place['home'].pk}/alert-rules").status_code == 404
    assert member.get("/api/alerts/not-a-uuid").status_code == 404
    response = member.post(f"{url}/close", {"note": 12}, format="json")
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]


def test_rules_show_the_defaults_and_admins_change_them_field_by_field(api, place):
    url = f"/api/homes/{place['home'].pk}/alert-rules"
    rules = {r["kind"]: r for r in api.get(url).json()}
    assert set(rules) == {"smoke", "water_leak", "battery_low", "temperature_high", "temperature_low", "hub_offline",
                          "budget_exceeded", "budget_forecast", "device_silent"}
    assert (rules["hub_offline"]["delaySeconds"], rules["hub_offline"]["severity"]) == (300, "warning")
    assert rules["battery_low"]["params"] == {"below": 15.0, "clearAbove": 20.0}

    changed = api.patch(f"{url}/battery_low", {"params": {"below": 25, "clearAbove": 30}, "severity": "critical"},
                        format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["params"] == {"below": 25.0, "clearAbove": 30.0} and changed.json()["severity"] == "critical"
    assert api.get(f"{url}/battery_low").json()["params"]["below"] == 25.0

    for body, field in [({"params": {"above": 3}}, "params.above"),
                        ({"params": {"below": 500}}, "params.below"),
                        ({"params": {"below": 35}}, "params.clearAbove"),
                        ({"severity": "urgent"}, "severity"),
                        ({"delaySeconds": -1}, "delaySeconds"),
                        ({"delaySeconds": 86_401}, "delaySeconds"),
                        ({"enabled": "yes"}, "enabled")]:
        response = api.patch(f"{url}/battery_low", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["error"]["fields"], (body, response.json())
    assert api.patch(f"{url}/no_such_kind", {"enabled": False}, format="json").status_code == 404
    member = client_for(f.add_member(place["home"], role="member"))
    assert member.get(url).status_code == 200
    assert member.patch(f"{url}/battery_low", {"enabled": False}, format="json").status_code == 403
