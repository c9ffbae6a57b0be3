"""Notifications: who is told (tiers and channels by severity), real mail to a loopback SMTP
server and signed webhooks to a loopback receiver, each delivery a record, retried with backoff,
never sent twice, held by quiet hours, escalated to the next tier when nobody acknowledges."""
import datetime
import hashlib
import hmac
import json
import time

import pytest
from django.utils import timezone

from alerts import notify, services
from alerts.models import Alert, Notification
from tests import factories as f
from tests.conftest import client_for
from tests.events import capture_events

from .conftest import ingest_batch, telemetry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def contacts(place, receiver):
    home = place["home"]
    return {
        "ana": services.contact_create(home=home, name="Ana", email="ana@example.com", push_url=receiver.url,
                                       push_token="fcm-token-ana", tier=1),
        "ben": services.contact_create(home=home, name="Ben", email="ben@example.com", tier=2),
    }


def deliver_planned(alert) -> dict:
    """What the worker does with the ids handed to it after the raise committed."""
    return notify.deliver(list(Notification.objects.filter(alert=alert).values_list("pk", flat=True)))


def test_a_critical_alert_mails_and_pushes_tier_one_and_records_each_delivery(place, contacts, mailbox, receiver):
    home, leak = place["home"], place["leak"]
    with capture_events(home.pk) as events:
        ingest_batch([telemetry(leak, {"leak": 1})])
        alert = Alert.objects.get(home=home)
        assert deliver_planned(alert) == {"sent": 3}

    [mail] = mailbox.messages
    assert mail["To"] == "ana@example.com" and mail["Subject"] == "[CRITICAL] Water leak detected by Sink sensor"
    assert mail["X-VeaHome-Alert"] == str(alert.pk)
    assert "Home: Casa" in mail.get_payload()
    [push] = receiver.requests
    body = push["body"]
    key = notify.webhook_key(contacts["ana"]).encode()
    assert push["headers"]["X-VeaHome-Signature"] == "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    message = json.loads(body)["message"]
    assert message["token"] == "fcm-token-ana" and message["data"]["alertId"] == str(alert.pk)
    assert message["notification"]["title"].startswith("[CRITICAL]")
    assert [d["title"] for name, d in events if name == "alert:notify"] == ["Water leak detected by Sink sensor"]
    records = {(n.channel, n.recipient, n.status, n.step) for n in Notification.objects.filter(alert=alert)}
    assert records == {("email", "ana@example.com", "sent", 0), ("push", "127.0.0.1", "sent", 0),
                       ("in_app", "live feed", "sent", 0)}
    # Ben is tier 2: not told unless it escalates.


def test_repeats_and_redelivered_tasks_never_send_twice(place, contacts, mailbox, receiver):
    home, leak = place["home"], place["leak"]
    for _ in range(3):
        ingest_batch([telemetry(leak, {"leak": 1}) for _ in range(100)])
    alert = Alert.objects.get(home=home)
    assert alert.occurrences == 300
    ids = list(Notification.objects.filter(alert=alert).values_list("pk", flat=True))
    assert len(ids) == 3
    assert notify.deliver(ids) == {"sent": 3}
    # The task delivered again (acks_late after a lost ack), and the tick's sweep: nothing more.
    assert notify.deliver(ids) == {"skipped": 3}
    assert notify.deliver(notify.due()) == {}
    assert len(mailbox.messages) == 1 and len(receiver.requests) == 1


def test_a_worker_killed_while_sending_leaves_it_unconfirmed_and_never_resent(place, contacts, mailbox):
    ingest_batch([telemetry(place["leak"], {"leak": 1})])
    email = Notification.objects.get(channel="email")
    # What a worker killed between its claim and the mail server's answer leaves behind.
    assert notify._claim(email.pk)
    assert notify.deliver([email.pk]) == {"skipped": 1}
    later = timezone.now() + notify.SENDING_STALE + datetime.timedelta(seconds=1)
    assert email.pk not in notify.due(now=later)
    email.refresh_from_db()
    assert (email.status, email.attempts) == ("unconfirmed", 1)
    assert mailbox.messages == []


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(place, contacts, receiver, mailbox):
    receiver.statuses = [503, 503, 200]
    ingest_batch([telemetry(place["leak"], {"leak": 1})])
    push = Notification.objects.get(channel="push")
    assert notify.deliver([push.pk]) == {"retry": 1}
    push.refresh_from_db()
    assert (push.status, push.attempts, push.error) == ("pending", 1, "DeliveryError: the webhook answered 503")
    assert push.next_attempt_at - timezone.now() > datetime.timedelta(seconds=8)
    assert notify.deliver([push.pk]) == {"skipped": 1}  # not due yet
    for attempt in (2, 3):
        Notification.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
        notify.deliver(notify.due())
    push.refresh_from_db()
    assert (push.status, push.attempts, len(receiver.requests)) == ("sent", 3, 3)
    # Every attempt carried the same delivery id, for the receiver to deduplicate on.
    assert {r["headers"]["X-VeaHome-Delivery"] for r in receiver.requests} == {str(push.pk)}

    receiver.statuses = [500]
    ingest_batch([telemetry(place["smoke"], {"smoke": 1})])
    push = Notification.objects.get(channel="push", alert__kind="smoke")
    for _ in range(notify.MAX_ATTEMPTS):
        Notification.objects.filter(pk=push.pk).update(next_attempt_at=timezone.now())
        notify.deliver([push.pk])
    push.refresh_from_db()
    assert (push.status, push.attempts) == ("failed", notify.MAX_ATTEMPTS)


def test_quiet_hours_hold_what_is_not_critical_and_never_a_critical_one(place, contacts, mailbox):
    home = place["home"]
    now_local = timezone.now().astimezone(home.tz)
    start = (now_local - datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now_local + datetime.timedelta(hours=1)).time().replace(second=0, microsecond=0)
    services.policy_update(home=home, quiet_start=start, quiet_end=end)
    ingest_batch([telemetry(place["leak"], {"battery": 5, "leak": 1})])
    low = Notification.objects.get(alert__kind="battery_low", channel="email")
    assert low.status == "held"
    assert abs((low.next_attempt_at - (timezone.now() + datetime.timedelta(hours=1))).total_seconds()) < 120
    leak = Notification.objects.get(alert__kind="water_leak", channel="email")
    assert leak.status == "pending"
    assert notify.deliver([low.pk, leak.pk]) == {"skipped": 1, "sent": 1}
    assert [m["Subject"] for m in mailbox.messages] == ["[CRITICAL] Water leak detected by Sink sensor"]
    # The quiet hours end: the tick's sweep sends what they held.
    Notification.objects.filter(status="held").update(next_attempt_at=timezone.now())
    assert notify.deliver(notify.due()) == {"sent": 2}  # the email and the in-app one
    assert mailbox.messages[-1]["Subject"] == "[WARNING] Sink sensor: battery at 5 %"


def test_an_unacknowledged_critical_alert_escalates_to_the_next_tier(place, contacts, mailbox):
    home = place["home"]
    services.policy_update(home=home, escalate_after_minutes=10)
    ingest_batch([telemetry(place["leak"], {"leak": 1})])
    alert = Alert.objects.get(home=home)
    deliver_planned(alert)
    assert services.alerts_escalate_due(now=alert.first_seen_at + datetime.timedelta(minutes=9)) == 0
    with capture_events(home.pk) as events:
        assert services.alerts_escalate_due(now=alert.first_seen_at + datetime.timedelta(minutes=11)) == 1
    alert.refresh_from_db()
    assert (alert.status, alert.escalation_level, alert.escalated_by) == ("escalated", 1, None)
    assert [d["status"] for n, d in events if n == "alert:update"] == ["escalated"]
    step_one = list(Notification.objects.filter(alert=alert, step=1))
    assert {(n.channel, n.recipient) for n in step_one} == {("email", "ben@example.com"), ("in_app", "live feed")}
    notify.deliver([n.pk for n in step_one])
    assert [m["To"] for m in mailbox.messages] == ["ana@example.com", "ben@example.com"]
    assert "(escalated, step 1)" in mailbox.messages[-1]["Subject"]

    # Acknowledged: no further escalation.
    services.alert_step(alert=alert, step="acknowledge", actor=home.owner)
    assert services.alerts_escalate_due(now=alert.first_seen_at + datetime.timedelta(minutes=60)) == 0


def test_the_api_for_contacts_policy_and_an_alerts_notifications(api, place, contacts, mailbox):
    home = place["home"]
    base = f"/api/homes/{home.pk}"
    listed = api.get(f"{base}/contacts").json()["results"]
    assert [(c["name"], c["tier"]) for c in listed] == [("Ana", 1), ("Ben", 2)]
    assert listed[0]["webhookKey"] == notify.webhook_key(contacts["ana"]) and listed[1]["webhookKey"] is None
    created = api.post(f"{base}/contacts", {"name": "Cleo", "email": "cleo@example.com", "phone": "+34600111222",
                                            "tier": 3}, format="json")
    assert created.status_code == 201, created.content
    for body, field in [({"name": "X", "email": "not-an-email"}, "email"),
                        ({"name": "X", "phone": "600111222"}, "phone"),
                        ({"name": "X", "tier": 4}, "tier"),
                        ({"name": "X", "pushUrl": "ftp://relay.example.com"}, "pushUrl"),
                        ({"email": "x@example.com"}, "name")]:
        response = api.post(f"{base}/contacts", body, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (body, response.content)
    assert api.delete(f"{base}/contacts/{created.json()['id']}").status_code == 204

    policy = api.get(f"{base}/notification-policy").json()
    assert policy["routes"]["critical"] == {"tiers": [1], "channels": ["email", "push", "in_app"]}
    assert (policy["quietStart"], policy["escalateAfterMinutes"]) == (None, 10)
    changed = api.patch(f"{base}/notification-policy", {"quietStart": "22:30", "quietEnd": "07:00",
                                                        "routes": {"warning": {"tiers": [1, 2], "channels": ["email"]}}},
                        format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["routes"]["warning"] == {"tiers": [1, 2], "channels": ["email"]}
    assert changed.json()["routes"]["critical"]["channels"] == ["email", "push", "in_app"]
    for body, field in [({"quietStart": "25:00"}, "quietStart"), ({"quietEnd": None}, "quietEnd"),
                        ({"routes": {"urgent": {}}}, "routes.urgent"),
                        ({"routes": {"info": {"channels": ["sms"]}}}, "routes.info.channels"),
                        ({"escalateAfterMinutes": -5}, "escalateAfterMinutes")]:
        response = api.patch(f"{base}/notification-policy", body, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (body, response.content)

    ingest_batch([telemetry(place["leak"], {"leak": 1})])
    alert = Alert.objects.get(home=home)
    deliver_planned(alert)
    sent = api.get(f"{base}/alerts/{alert.pk}/notifications").json()["results"]
    assert {(n["channel"], n["recipient"], n["status"]) for n in sent} >= {("email", "ana@example.com", "sent")}

    member = client_for(f.add_member(home, role="member"))
    guest = client_for(f.add_member(home, role="guest"))
    assert member.get(f"{base}/contacts").json()["results"][0]["webhookKey"] is None
    assert member.post(f"{base}/contacts", {"name": "Y"}, format="json").status_code == 403
    assert member.patch(f"{base}/notification-policy", {"escalateAfterMinutes": 5}, format="json").status_code == 403
    assert guest.get(f"{base}/contacts").status_code == 403


def test_a_real_worker_and_beat_deliver_a_critical_alert_by_mail(place, contacts, mailbox, tmp_path, settings):
    """End to end: the raise commits, the hand-off reaches a real worker, which mails the
    loopback SMTP server."""
    from tests.automations.test_schedule_worker import Stack

    stack = Stack(tmp_path, queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    stack.env.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(settings.EMAIL_PORT))
    stack.worker()
    try:
        ingest_batch([telemetry(place["leak"], {"leak": 1})])
        deadline = time.monotonic() + 40
        while not mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [m["To"] for m in mailbox.messages] == ["ana@example.com"], stack.logs()
        email = Notification.objects.get(channel="email")
        assert (email.status, email.attempts) == ("sent", 1)
    finally:
        stack.stop()
