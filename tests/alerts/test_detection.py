"""Alerts from what hubs report: raised once per cause (repeats count), resolved when the
cause clears, after a rule's delay when it has one, by each home's thresholds."""
import datetime

import pytest

from alerts import services
from alerts.models import Alert, PendingAlert
from hubs.models import Hub
from tests.events import capture_events

from .conftest import hub_status, ingest_batch, telemetry

pytestmark = pytest.mark.django_db(transaction=True)
UTC = datetime.UTC


def alerts_of(home, **filters):
    return list(Alert.objects.filter(home=home, **filters).order_by("created_at"))


def test_a_leak_raises_one_critical_alert_and_repeats_count_as_occurrences(place):
    home, leak = place["home"], place["leak"]
    with capture_events(home.pk) as events:
        ingest_batch([telemetry(leak, {"leak": 1})])
        ingest_batch([telemetry(leak, {"leak": 1}), telemetry(leak, {"leak": 1})])

    [alert] = alerts_of(home)
    assert (alert.kind, alert.severity, alert.status, alert.source, alert.source_id) == (
        "water_leak", "critical", "open", "device", leak.pk)
    assert alert.title == "Water leak detected by Sink sensor"
    assert alert.occurrences == 3 and alert.last_seen_at >= alert.first_seen_at
    alert_events = [(name, data["occurrences"]) for name, data in events if name.startswith("alert:")]
    assert alert_events == [("alert:new", 1), ("alert:update", 3)]


def test_a_dry_reading_resolves_the_alert_with_the_reason_and_a_new_leak_raises_a_new_one(place):
    home, leak = place["home"], place["leak"]
    ingest_batch([telemetry(leak, {"leak": 1})])
    with capture_events(home.pk) as events:
        ingest_batch([telemetry(leak, {"leak": 0})])

    [alert] = alerts_of(home)
    assert (alert.status, alert.resolution, alert.closed_by) == ("closed", "resolved", None)
    assert alert.close_note.startswith("leak read 0 at ")
    assert [(n, d["status"], d["resolution"]) for n, d in events if n.startswith("alert:")] == [
        ("alert:update", "closed", "resolved")]

    ingest_batch([telemetry(leak, {"leak": 1})])
    assert [a.status for a in alerts_of(home)] == ["closed", "open"]


def test_ten_thousand_identical_reports_are_one_alert_with_ten_thousand_occurrences(place):
    home, smoke = place["home"], place["smoke"]
    start = datetime.datetime.now(UTC)
    for batch in range(20):
        ingest_batch([telemetry(smoke, {"smoke": 1}, at=start + datetime.timedelta(milliseconds=batch * 500 + n))
                      for n in range(500)])

    [alert] = alerts_of(home)
    assert (alert.kind, alert.occurrences) == ("smoke", 10_000)


def test_readings_between_the_thresholds_neither_raise_nor_resolve(place):
    home, leak = place["home"], place["leak"]  # a leak sensor with a battery
    ingest_batch([telemetry(leak, {"battery": 17})])
    assert alerts_of(home) == []
    ingest_batch([telemetry(leak, {"battery": 12})])
    ingest_batch([telemetry(leak, {"battery": 18})])  # above 15, below the clear level of 20
    [alert] = alerts_of(home)
    assert (alert.kind, alert.status, alert.title) == ("battery_low", "open", "Sink sensor: battery at 12 %")
    ingest_batch([telemetry(leak, {"battery": 96})])
    assert alerts_of(home)[0].status == "closed"


def test_a_homes_own_thresholds_and_a_disabled_kind(place):
    home, leak = place["home"], place["leak"]
    services.alert_rule_update(home=home, kind="temperature_high", params={"above": 30, "clear_below": 28})
    services.alert_rule_update(home=home, kind="water_leak", enabled=False)
    ingest_batch([telemetry(leak, {"temperature": 31, "leak": 1})])
    [alert] = alerts_of(home)
    assert (alert.kind, alert.data) == ("temperature_high", {"field": "temperature", "value": 31.0})


def test_a_hub_offline_is_raised_only_after_the_delay_and_resolved_when_it_is_back(place):
    home, hub = place["home"], place["hub"]
    went = datetime.datetime.now(UTC)
    ingest_batch([hub_status(hub, "offline", at=went)])
    assert alerts_of(home) == [] and PendingAlert.objects.filter(home=home).count() == 1

    assert services.alerts_tick(now=went + datetime.timedelta(seconds=299)) == 0
    assert services.alerts_tick(now=went + datetime.timedelta(seconds=301)) == 1
    [alert] = alerts_of(home)
    assert (alert.kind, alert.source_id, alert.severity, alert.title) == (
        "hub_offline", hub.pk, "warning", "Hub Kitchen hub is offline")
    assert PendingAlert.objects.count() == 0

    ingest_batch([hub_status(hub, "online")])
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == ("closed", "resolved")
    assert alert.close_note.startswith("the hub came back online at ")


def test_a_hub_back_before_the_delay_never_raises(place):
    home, hub = place["home"], place["hub"]
    went = datetime.datetime.now(UTC)
    ingest_batch([hub_status(hub, "offline", at=went)])
    ingest_batch([hub_status(hub, "online", at=went + datetime.timedelta(seconds=60))])
    assert PendingAlert.objects.count() == 0
    assert services.alerts_tick(now=went + datetime.timedelta(seconds=600)) == 0
    assert alerts_of(home) == []
    assert Hub.objects.get(pk=hub.pk).status == "online"


def test_a_rule_without_delay_raises_a_hub_offline_at_once(place):
    home, hub = place["home"], place["hub"]
    services.alert_rule_update(home=home, kind="hub_offline", delay_seconds=0, severity="critical")
    ingest_batch([hub_status(hub, "offline")])
    [alert] = alerts_of(home)
    assert (alert.kind, alert.severity) == ("hub_offline", "critical")


def test_an_automations_notify_action_raises_its_alert_and_repeats_count(place):
    from automations.engine import runtime
    from tests.automations.engine_support import automation

    home, leak = place["home"], place["leak"]
    auto = automation(home, trigger={"type": "device", "deviceId": str(leak.pk), "attribute": "isActive",
                                     "equals": True},
                      actions=[{"type": "notify", "message": "Check the basement", "severity": "warning"}])
    first = runtime.run_now(automation=auto)
    second = runtime.run_now(automation=auto)
    [alert] = alerts_of(home)
    assert (alert.source, alert.source_id, alert.kind, alert.severity, alert.title, alert.occurrences) == (
        "automation", auto.pk, "automation", "warning", "Check the basement", 2)
    assert first.trace["actions"][0]["outcome"] == "alert raised"
    assert second.trace["actions"][0] == {**second.trace["actions"][0], "outcome": "alert repeated",
                                          "alertId": str(alert.pk)}
