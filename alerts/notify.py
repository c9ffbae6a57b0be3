"""Telling people about alerts: which contacts and channels (the home's policy), the delivery
records, and the channels that send.

**Planning** (inside the transaction that raised or escalated the alert): one Notification per
contact of the step's tier and channel of the alert's severity (plus one in-app delivery), at
most one per (alert, contact, channel, step) by a unique index, so planning twice plans once.
What is not critical, during the home's quiet hours, is held until they end.

**Delivery** (a worker, after commit; the alerts tick for retries and held ones): a row is
claimed (`pending` -> `sending`, committed) before anything is sent, then marked `sent`, or
back to `pending` with the next attempt after a backoff, or `failed` after MAX_ATTEMPTS. A
worker killed while sending leaves the row `sending`: nothing ever sends it again (the tick
marks it `unconfirmed` after SENDING_STALE), so a redelivered task never sends a second email;
the escalation to the next tier is the safety net for one that was lost.

**Channels** (CHANNELS, a registry): `email` through Django's email framework (SMTP by
default), `push` a POST of FCM's HTTP v1 message shape to the contact's URL, signed with
HMAC-SHA256 (`X-VeaHome-Signature: sha256=<hex>`, key: `webhook_key(contact)`), with the
delivery's id as `X-VeaHome-Delivery` for receivers to deduplicate, and `in_app` an
`alert:notify` event on the home's live feed.
"""
import datetime
import hashlib
import hmac
import json
import logging
import zoneinfo
from collections.abc import Callable

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from realtime.events import publish_many

from .models import Alert, Channel, Contact, Notification, NotificationPolicy, Severity, default_routes

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Attempt n waits BACKOFF[n - 1] seconds after failing (the last repeats).
BACKOFF = [10, 30, 120, 600]
SENDING_STALE = datetime.timedelta(minutes=5)

Sender = Callable[[Notification, Alert, Contact | None], None]
CHANNELS: dict[str, Sender] = {}


def channel(name: str):
    def register(fn: Sender) -> Sender:
        CHANNELS[name] = fn
        return fn

    return register


class DeliveryError(Exception):
    pass


# --- the policy -------------------------------------------------------------------------------


def policy_of(home_id) -> NotificationPolicy:
    """The home's policy, or the defaults (not stored until someone changes them)."""
    return NotificationPolicy.objects.filter(home_id=home_id).first() or NotificationPolicy(home_id=home_id)


def in_quiet_hours(policy: NotificationPolicy, tz: str, now: datetime.datetime) -> datetime.datetime | None:
    """When the quiet hours now in force end (UTC), or None if it is not quiet now. Across
    midnight too (22:00-07:00)."""
    if policy.quiet_start is None or policy.quiet_end is None or policy.quiet_start == policy.quiet_end:
        return None
    zone = zoneinfo.ZoneInfo(tz)
    local = now.astimezone(zone)
    start, end, at = policy.quiet_start, policy.quiet_end, local.time()
    quiet = (start <= at < end) if start < end else (at >= start or at < end)
    if not quiet:
        return None
    day = local.date() if (start < end or at < end) else local.date() + datetime.timedelta(days=1)
    from automations.timing import local_instant

    return local_instant(day, end, zone)


def webhook_key(contact: Contact) -> str:
    """The key a contact's webhook checks signatures with: derived from the server's secret and
    the contact, never stored (the API shows it to the home's admins)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"webhook:{contact.pk}".encode(), hashlib.sha256).hexdigest()


# --- planning ---------------------------------------------------------------------------------


def plan(alert_ids: list, *, step: int) -> list:
    """Plan the deliveries of these alerts at this escalation step (tier step + 1); call inside
    the transaction that raised or escalated them. The delivery ids, handed to a worker after commit."""
    if not alert_ids:
        return []
    now = timezone.now()
    alerts = list(Alert.objects.filter(pk__in=alert_ids).select_related("home"))
    homes = {a.home_id for a in alerts}
    policies = {p.home_id: p for p in NotificationPolicy.objects.filter(home_id__in=homes)}
    contacts: dict = {}
    for contact in Contact.objects.filter(home_id__in=homes, enabled=True):
        contacts.setdefault(contact.home_id, []).append(contact)
    rows = []
    for alert in alerts:
        policy = policies.get(alert.home_id) or NotificationPolicy(home_id=alert.home_id)
        route = (policy.routes or default_routes()).get(alert.severity) or {"tiers": [], "channels": []}
        tier = sorted(route.get("tiers") or [1])[0] + step
        held_until = None if alert.severity == Severity.CRITICAL else in_quiet_hours(policy, alert.home.timezone, now)
        status = Notification.Status.HELD if held_until else Notification.Status.PENDING
        channels = route.get("channels") or []
        for contact in contacts.get(alert.home_id, []):
            if contact.tier != tier:
                continue
            for name in channels:
                if name == Channel.IN_APP or not _reachable(contact, name):
                    continue
                rows.append(Notification(alert=alert, home_id=alert.home_id, contact=contact, channel=name, step=step,
                                         status=status, next_attempt_at=held_until, recipient=_recipient(contact, name)))
        if Channel.IN_APP in channels:
            rows.append(Notification(alert=alert, home_id=alert.home_id, channel=Channel.IN_APP, step=step,
                                     status=status, next_attempt_at=held_until, recipient="live feed"))
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    planned = list(Notification.objects.filter(alert_id__in=alert_ids, step=step, status=Notification.Status.PENDING)
                   .values_list("pk", flat=True))
    if planned:
        hand_off(planned)
    return planned


def _reachable(contact: Contact, name: str) -> bool:
    return bool(contact.email) if name == Channel.EMAIL else bool(contact.push_url) if name == Channel.PUSH else True


def _recipient(contact: Contact, name: str) -> str:
    if name == Channel.EMAIL:
        return contact.email
    if name == Channel.PUSH:
        return httpx.URL(contact.push_url).host
    return ""


def hand_off(ids: list) -> None:
    ids = [str(pk) for pk in ids]

    def send():
        from . import tasks

        try:
            tasks.deliver.delay(ids)
        except Exception:
            logger.exception("could not hand %d notifications to a worker; the alerts tick sends them", len(ids))

    transaction.on_commit(send)


# --- delivery ---------------------------------------------------------------------------------


def _claim(pk) -> bool:
    """pending/held and due -> sending, committed before anything leaves."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Notification._meta.db_table} SET status = 'sending', attempts = attempts + 1,"
                       " updated_at = now() WHERE id = %s AND status IN ('pending', 'held')"
                       " AND (next_attempt_at IS NULL OR next_attempt_at <= now()) RETURNING id", [pk])
        return cursor.fetchone() is not None


def deliver(ids: list) -> dict:
    """Send each due delivery once; counts by outcome. Safe to call again with the same ids."""
    counts: dict[str, int] = {}
    for pk in ids:
        if not _claim(pk):
            counts["skipped"] = counts.get("skipped", 0) + 1
            continue
        notification = Notification.objects.select_related("alert__home", "contact").get(pk=pk)
        try:
            CHANNELS[notification.channel](notification, notification.alert, notification.contact)
        except Exception as exc:
            _failed(notification, exc)
            counts["retry"] = counts.get("retry", 0) + 1
            continue
        Notification.objects.filter(pk=pk, status=Notification.Status.SENDING).update(
            status=Notification.Status.SENT, sent_at=timezone.now(), error="", updated_at=timezone.now())
        counts["sent"] = counts.get("sent", 0) + 1
    return counts


def _failed(notification: Notification, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:500]
    logger.warning("notification %s (%s) attempt %d failed: %s", notification.pk, notification.channel,
                   notification.attempts, error)
    if notification.attempts >= MAX_ATTEMPTS:
        fields = {"status": Notification.Status.FAILED, "next_attempt_at": None}
    else:
        wait = BACKOFF[min(notification.attempts, len(BACKOFF)) - 1]
        fields = {"status": Notification.Status.PENDING,
                  "next_attempt_at": timezone.now() + datetime.timedelta(seconds=wait)}
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
        error=error, updated_at=timezone.now(), **fields)


def due(*, now: datetime.datetime | None = None, batch: int = 500) -> list:
    """Deliveries due again (retries, held by quiet hours); and those left `sending` by a worker
    that died, marked unconfirmed (never resent)."""
    now = now or timezone.now()
    Notification.objects.filter(status=Notification.Status.SENDING, updated_at__lt=now - SENDING_STALE).update(
        status=Notification.Status.UNCONFIRMED, error="interrupted while sending; not sent again", updated_at=now)
    return list(Notification.objects.filter(status__in=[Notification.Status.PENDING, Notification.Status.HELD],
                                            next_attempt_at__lte=now).values_list("pk", flat=True)[:batch])


# --- channels ---------------------------------------------------------------------------------


def _text(alert: Alert, notification: Notification) -> tuple[str, str]:
    escalated = f" (escalated, step {notification.step})" if notification.step else ""
    subject = f"[{alert.severity.upper()}] {alert.title}{escalated}"
    local = alert.first_seen_at.astimezone(zoneinfo.ZoneInfo(alert.home.timezone))
    body = (f"{alert.title}\n\nHome: {alert.home.name}\nSince: {local:%Y-%m-%d %H:%M} ({alert.home.timezone})\n"
            f"Seen {alert.occurrences} time(s). Status: {alert.status}.\n\n"
            "Open the VeaHome app to acknowledge it.\n")
    return subject, body


@channel(Channel.EMAIL)
def _email(notification: Notification, alert: Alert, contact: Contact | None) -> None:
    subject, body = _text(alert, notification)
    message = EmailMessage(subject=subject, body=body, to=[notification.recipient],
                           headers={"X-VeaHome-Alert": str(alert.pk), "X-VeaHome-Delivery": str(notification.pk)})
    if message.send(fail_silently=False) != 1:
        raise DeliveryError("the mail server took no message")


@channel(Channel.PUSH)
def _push(notification: Notification, alert: Alert, contact: Contact | None) -> None:
    if contact is None or not contact.push_url:
        raise DeliveryError("the contact has no push URL any more")
    subject, body = _text(alert, notification)
    # FCM HTTP v1's message shape, so a relay can pass it on as it is.
    payload = {"message": {
        "token": contact.push_token or None,
        "notification": {"title": subject, "body": alert.title},
        "data": {"alertId": str(alert.pk), "homeId": str(alert.home_id), "kind": alert.kind,
                 "severity": alert.severity, "status": alert.status, "step": str(notification.step)},
    }}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    signature = hmac.new(webhook_key(contact).encode(), raw, hashlib.sha256).hexdigest()
    response = httpx.post(contact.push_url, content=raw, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT, headers={
        "Content-Type": "application/json", "X-VeaHome-Signature": f"sha256={signature}",
        "X-VeaHome-Delivery": str(notification.pk)})
    if response.status_code >= 300:
        raise DeliveryError(f"the webhook answered {response.status_code}")


@channel(Channel.IN_APP)
def _in_app(notification: Notification, alert: Alert, contact: Contact | None) -> None:
    with transaction.atomic():
        publish_many([(alert.home_id, "alert:notify", {"alertId": str(alert.pk), "title": alert.title,
                                                        "severity": alert.severity, "step": notification.step})])
