"""The endpoint table every home-scoped URL is registered in, and the checks run on each.

For every endpoint: anonymous -> 401, a user of another home -> 404 (never 403, never data),
a member with the needed role -> 2xx, a member one role short -> 403.
Suites for later features add their endpoints with `endpoint(...)`.
"""
from dataclasses import dataclass
from typing import Callable

ROLES = ["guest", "member", "admin", "owner"]


@dataclass
class Endpoint:
    name: str
    method: str
    url: Callable[[dict], str]
    body: Callable[[dict], dict] | None = None
    role: str = "guest"
    # The code a member one role short gets (removing another member is a role rule of its own).
    short_code: str = "role_required"
    # Who may read the resource at all (and ask OPTIONS of it): guests, except for what only
    # members see (a home's contacts and its notification policy).
    read_role: str = "guest"

    def call(self, client, world):
        body = self.body(world) if self.body else None
        return getattr(client, self.method)(self.url(world), body, format="json")


ENDPOINTS: list[Endpoint] = []


def endpoint(name, method, url, body=None, role="guest", short_code="role_required", read_role="guest"):
    ENDPOINTS.append(Endpoint(name, method, url, body, role, short_code, read_role))


def H(w):
    return f"/api/homes/{w['home'].pk}"


def _device_body(w):
    return {"name": "New lamp", "type": "light", "category": "Zigbee", "roomId": str(w["living"].pk)}


endpoint("home detail", "get", lambda w: H(w))
endpoint("home update", "patch", lambda w: H(w), lambda w: {"name": "Renamed"}, role="admin")
endpoint("home delete", "delete", lambda w: H(w), role="owner")
endpoint("layout get", "get", lambda w: f"{H(w)}/layout")
endpoint("layout put", "put", lambda w: f"{H(w)}/layout", lambda w: {"layout": {str(w["living"].pk): {"x": 0, "y": 0}}}, role="admin")
endpoint("rooms list", "get", lambda w: f"{H(w)}/rooms")
endpoint("room create", "post", lambda w: f"{H(w)}/rooms", lambda w: {"name": "Office"}, role="admin")
endpoint("room detail", "get", lambda w: f"{H(w)}/rooms/{w['living'].pk}")
endpoint("room update", "patch", lambda w: f"{H(w)}/rooms/{w['living'].pk}", lambda w: {"name": "Lounge"}, role="admin")
endpoint("room delete", "delete", lambda w: f"{H(w)}/rooms/{w['kitchen'].pk}", role="admin")
endpoint("members list", "get", lambda w: f"{H(w)}/members")
endpoint("member detail", "get", lambda w: f"{H(w)}/members/{w['friend'].pk}")
endpoint("member update", "patch", lambda w: f"{H(w)}/members/{w['friend'].pk}", lambda w: {"role": "member"}, role="admin")
endpoint("member replace", "put", lambda w: f"{H(w)}/members/{w['friend'].pk}", lambda w: {"role": "member"}, role="admin")
endpoint("member remove", "delete", lambda w: f"{H(w)}/members/{w['friend'].pk}", role="admin", short_code="role_not_assignable")
endpoint("home replace", "put", lambda w: H(w), lambda w: {"name": "Renamed"}, role="admin")
endpoint("room replace", "put", lambda w: f"{H(w)}/rooms/{w['living'].pk}", lambda w: {"name": "Lounge"}, role="admin")
endpoint("hub replace", "put", lambda w: f"/api/hubs/{w['hub'].pk}", lambda w: {"name": "Upstairs"}, role="admin")
endpoint("hub rooms replace", "put", lambda w: f"/api/hubs/{w['hub'].pk}/rooms", lambda w: {"roomIds": [str(w["living"].pk)]}, role="admin")
endpoint("device replace", "put", lambda w: f"{H(w)}/devices/{w['lamp'].pk}", _device_body, role="admin")
endpoint("group rename", "patch", lambda w: f"{H(w)}/device-groups/{w['group'].pk}", lambda w: {"name": "Three"}, role="member")
endpoint("scene rename", "patch", lambda w: f"{H(w)}/scenes/{w['scene'].pk}", lambda w: {"name": "Late"}, role="member")
endpoint("schedule replace", "put", lambda w: f"{H(w)}/schedules/{w['schedule'].pk}", lambda w: {"name": "Wake", "time": "07:00", "days": ["monday"], "actions": [{"type": "scene", "sceneId": str(w["scene"].pk)}]}, role="member")
endpoint("automation rename", "patch", lambda w: f"{H(w)}/automations/{w['automation'].pk}", lambda w: {"name": "Auto 3"}, role="member")
endpoint("member invite", "post", lambda w: f"{H(w)}/members", lambda w: {"email": "newcomer@example.com", "role": "member"}, role="admin")


def _invitation(w):
    """A pending invitation of the home (only the home's admins see and revoke them)."""
    from homes import services

    if "invitation" not in w:
        w["invitation"] = services.invitation_create(
            home=w["home"], actor=w["home"].owner, actor_role="owner", email="invitee@example.com", role="guest"
        )
    return w["invitation"]


def _automation_run(w):
    """A finished run of the home's automation, run by hand."""
    from automations.engine import runtime

    if "automation_run" not in w:
        w["automation_run"] = runtime.run_now(automation=w["automation"], actor=w["home"].owner)
    return w["automation_run"]


endpoint("invitations list", "get", lambda w: f"{H(w)}/invitations", role="admin")
endpoint("invitation revoke", "delete", lambda w: f"{H(w)}/invitations/{_invitation(w).pk}", role="admin")
endpoint("hubs list", "get", lambda w: f"{H(w)}/hubs")
endpoint("hub detail", "get", lambda w: f"/api/hubs/{w['hub'].pk}")
endpoint("hub status", "get", lambda w: f"/api/hubs/{w['hub'].pk}/status")
endpoint("hub rename", "patch", lambda w: f"/api/hubs/{w['hub'].pk}", lambda w: {"name": "Upstairs"}, role="admin")
endpoint("hub rooms", "post", lambda w: f"/api/hubs/{w['hub'].pk}/rooms", lambda w: {"roomIds": [str(w["living"].pk)]}, role="admin")
endpoint("hub wifi", "post", lambda w: f"/api/hubs/{w['hub'].pk}/wifi", lambda w: {"ssid": "Casa", "password": "password123"}, role="admin")
endpoint("hub unpair", "post", lambda w: f"/api/hubs/{w['hub'].pk}/unpair", role="admin")
endpoint("hub delete (unpair)", "delete", lambda w: f"/api/hubs/{w['hub'].pk}", role="admin")
endpoint("devices list", "get", lambda w: f"{H(w)}/devices")
endpoint("device create", "post", lambda w: f"{H(w)}/devices", _device_body, role="admin")
endpoint("device detail", "get", lambda w: f"{H(w)}/devices/{w['lamp'].pk}")
endpoint("device update", "patch", lambda w: f"{H(w)}/devices/{w['lamp'].pk}", lambda w: {"name": "Desk lamp"}, role="admin")
endpoint("device delete", "delete", lambda w: f"{H(w)}/devices/{w['lamp'].pk}", role="admin")
endpoint("groups list", "get", lambda w: f"{H(w)}/device-groups")
endpoint("group create", "post", lambda w: f"{H(w)}/device-groups", lambda w: {"name": "All", "deviceIds": [str(w["lamp"].pk)]}, role="member")
endpoint("group detail", "get", lambda w: f"{H(w)}/device-groups/{w['group'].pk}")
endpoint("group update", "put", lambda w: f"{H(w)}/device-groups/{w['group'].pk}", lambda w: {"name": "Two", "deviceIds": [str(w["tv"].pk)]}, role="member")
endpoint("group delete", "delete", lambda w: f"{H(w)}/device-groups/{w['group'].pk}", role="member")
endpoint("scenes list", "get", lambda w: f"{H(w)}/scenes")
endpoint("scene create", "post", lambda w: f"{H(w)}/scenes", lambda w: {"name": "Movie", "deviceStates": {str(w["tv"].pk): {"isActive": True}}}, role="member")
endpoint("scene detail", "get", lambda w: f"{H(w)}/scenes/{w['scene'].pk}")
endpoint("scene update", "put", lambda w: f"{H(w)}/scenes/{w['scene'].pk}", lambda w: {"name": "Night", "deviceStates": {str(w["lamp"].pk): {"isActive": False}}}, role="member")
endpoint("scene delete", "delete", lambda w: f"{H(w)}/scenes/{w['scene'].pk}", role="member")
endpoint("scene activate", "put", lambda w: f"{H(w)}/scenes/{w['scene'].pk}/activate", role="member")
endpoint("scene runs", "get", lambda w: f"{H(w)}/scenes/{w['scene'].pk}/runs")
endpoint("group control", "put", lambda w: f"{H(w)}/device-groups/{w['group'].pk}/control", lambda w: {"isActive": True}, role="member")
endpoint("schedules list", "get", lambda w: f"{H(w)}/schedules")
endpoint("schedule create", "post", lambda w: f"{H(w)}/schedules", lambda w: {"name": "Wake", "time": "06:45", "days": ["monday", "friday"], "actions": [{"type": "scene", "sceneId": str(w["scene"].pk)}]}, role="member")
endpoint("schedule detail", "get", lambda w: f"{H(w)}/schedules/{w['schedule'].pk}")
endpoint("schedule update", "patch", lambda w: f"{H(w)}/schedules/{w['schedule'].pk}", lambda w: {"enabled": False}, role="member")
endpoint("schedule runs", "get", lambda w: f"{H(w)}/schedules/{w['schedule'].pk}/runs")
endpoint("schedule delete", "delete", lambda w: f"{H(w)}/schedules/{w['schedule'].pk}", role="member")
endpoint("automations list", "get", lambda w: f"{H(w)}/automations")
endpoint("automation create", "post", lambda w: f"{H(w)}/automations", lambda w: {"name": "Auto", "trigger": {"type": "time", "at": "22:00"}, "actions": [{"type": "group", "groupId": str(w["group"].pk), "state": {"isActive": False}}]}, role="member")
endpoint("automation detail", "get", lambda w: f"{H(w)}/automations/{w['automation'].pk}")
endpoint("automation update", "put", lambda w: f"{H(w)}/automations/{w['automation'].pk}", lambda w: {"name": "Auto 2", "trigger": {"type": "time", "at": "23:00"}, "actions": [{"type": "scene", "sceneId": str(w["scene"].pk)}]}, role="member")
endpoint("automation run", "post", lambda w: f"{H(w)}/automations/{w['automation'].pk}/run", lambda w: {}, role="member")
endpoint("automation runs", "get", lambda w: f"{H(w)}/automations/{w['automation'].pk}/runs")
endpoint("automation run detail", "get", lambda w: f"{H(w)}/automations/{w['automation'].pk}/runs/{_automation_run(w).pk}")
endpoint("automation delete", "delete", lambda w: f"{H(w)}/automations/{w['automation'].pk}", role="member")


def _future_tariff(w):
    """A tariff that has not started yet (only those may be edited or deleted)."""
    import datetime

    from energy.models import Tariff

    if "future_tariff" not in w:
        w["future_tariff"] = Tariff.objects.create(
            home=w["home"], valid_from=datetime.date.today() + datetime.timedelta(days=30), price_per_kwh="0.25"
        )
    return w["future_tariff"]


def _budget(w):
    from energy.models import Budget

    Budget.objects.get_or_create(home=w["home"], defaults={"kind": "kwh", "amount": 300})
    return f"{H(w)}/budget"


endpoint("home energy", "get", lambda w: f"{H(w)}/energy")
endpoint("room energy", "get", lambda w: f"{H(w)}/rooms/{w['living'].pk}/energy")
endpoint("device history", "get", lambda w: f"{H(w)}/devices/{w['lamp'].pk}/history")
endpoint("tariffs list", "get", lambda w: f"{H(w)}/tariffs")
endpoint("tariff create", "post", lambda w: f"{H(w)}/tariffs", lambda w: {"validFrom": "2030-01-01", "pricePerKwh": 0.21}, role="admin")
endpoint("tariff detail", "get", lambda w: f"{H(w)}/tariffs/{_future_tariff(w).pk}")
endpoint("tariff update", "patch", lambda w: f"{H(w)}/tariffs/{_future_tariff(w).pk}", lambda w: {"pricePerKwh": 0.30}, role="admin")
endpoint("tariff replace", "put", lambda w: f"{H(w)}/tariffs/{_future_tariff(w).pk}", lambda w: {"validFrom": "2030-02-01", "pricePerKwh": 0.25}, role="admin")
endpoint("tariff delete", "delete", lambda w: f"{H(w)}/tariffs/{_future_tariff(w).pk}", role="admin")
endpoint("budget get", "get", lambda w: f"{H(w)}/budget")
endpoint("budget set", "post", lambda w: f"{H(w)}/budget", lambda w: {"kind": "cost", "amount": 80.00}, role="admin")
endpoint("budget delete", "delete", _budget, role="admin")
endpoint("budget replace", "put", lambda w: f"{H(w)}/budget", lambda w: {"kind": "kwh", "amount": 300}, role="admin")
endpoint("ingestion token issue", "post", lambda w: f"{H(w)}/devices/{w['lamp'].pk}/ingestion-token", role="admin")
endpoint("ingestion token revoke", "delete", lambda w: f"{H(w)}/devices/{w['lamp'].pk}/ingestion-token", role="admin")

endpoint("home snapshot", "get", lambda w: f"{H(w)}/snapshot")

endpoint("device control", "put", lambda w: f"{H(w)}/devices/{w['lamp'].pk}/control", lambda w: {"isActive": True}, role="member")
endpoint("device learn", "post", lambda w: f"/api/hubs/{w['hub'].pk}/devices/{w['tv'].pk}/learn", lambda w: {"action": "OFF"}, role="member")


def _alert(w):
    """An open alert of the home (a leak on its lamp, as the detection would raise it)."""
    from django.utils import timezone

    from alerts.models import Alert
    from alerts.services import Signal, alerts_raise

    if "alert" not in w:
        [row] = alerts_raise([Signal(home_id=w["home"].pk, source="device", source_id=w["lamp"].pk, kind="water_leak",
                                     severity="critical", title="Leak", seen=timezone.now())])
        w["alert"] = Alert.objects.get(pk=row["id"])
    return w["alert"]


def _contact(w):
    from alerts.services import contact_create

    if "contact" not in w:
        w["contact"] = contact_create(home=w["home"], name="Ana", email="ana@example.com")
    return w["contact"]


endpoint("home alerts", "get", lambda w: f"{H(w)}/alerts")
endpoint("home alert detail", "get", lambda w: f"{H(w)}/alerts/{_alert(w).pk}")
endpoint("alert notifications", "get", lambda w: f"{H(w)}/alerts/{_alert(w).pk}/notifications")
endpoint("alert rules", "get", lambda w: f"{H(w)}/alert-rules")
endpoint("alert rule", "get", lambda w: f"{H(w)}/alert-rules/battery_low")
endpoint("alert rule update", "patch", lambda w: f"{H(w)}/alert-rules/battery_low", lambda w: {"enabled": False}, role="admin")
endpoint("contacts list", "get", lambda w: f"{H(w)}/contacts", role="member", read_role="member")
endpoint("contact create", "post", lambda w: f"{H(w)}/contacts", lambda w: {"name": "Ben", "email": "ben@example.com"}, role="admin", read_role="member")
endpoint("contact detail", "get", lambda w: f"{H(w)}/contacts/{_contact(w).pk}", role="member", read_role="member")
endpoint("contact update", "patch", lambda w: f"{H(w)}/contacts/{_contact(w).pk}", lambda w: {"tier": 2}, role="admin", read_role="member")
endpoint("contact replace", "put", lambda w: f"{H(w)}/contacts/{_contact(w).pk}", lambda w: {"name": "Ana B"}, role="admin", read_role="member")
endpoint("contact delete", "delete", lambda w: f"{H(w)}/contacts/{_contact(w).pk}", role="admin", read_role="member")
endpoint("notification policy", "get", lambda w: f"{H(w)}/notification-policy", role="member", read_role="member")
endpoint("notification policy update", "patch", lambda w: f"{H(w)}/notification-policy", lambda w: {"escalateAfterMinutes": 5}, role="admin", read_role="member")
