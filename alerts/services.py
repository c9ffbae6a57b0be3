"""Writes of alerts and their rules: raising (deduplicated), resolving, the people's steps.

A cause is a **signal** (alerts.detection builds them from telemetry and hub status). Raising
is one `INSERT ... ON CONFLICT` on the open-alert key, so a repeat, or ten thousand at once
from two listeners, adds to the open alert's occurrences instead of opening another; a signal
whose rule has a delay waits as a PendingAlert until the alerts tick raises it. A cause that
clears resolves its open alert (closed, resolution `resolved`, with the reason) and drops
its pending one. Every change is published (`alert:new`, `alert:update`) after commit.
"""
import datetime
import json
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from realtime.events import publish_many
from veahome.errors import ApplicationError
from veahome.renderers import camel_key
from veahome.services import model_update

from . import notify
from .errors import AlertError
from .kinds import KINDS, MAX_DELAY_SECONDS, dedupe_key, default_params
from .models import Alert, AlertRule, Contact, NotificationPolicy, PendingAlert

Status = Alert.Status
# Tier 1, then at most this many escalations to the next tiers.
MAX_ESCALATIONS = 2


@dataclass
class Signal:
    """A cause seen: what it is about, what was seen and when, how many times in this batch."""

    home_id: object
    source: str
    source_id: object
    kind: str
    severity: str
    title: str
    seen: datetime.datetime
    data: dict = field(default_factory=dict)
    count: int = 1

    @property
    def key(self) -> str:
        return dedupe_key(self.source, self.source_id, self.kind)

    def document(self) -> dict:
        return {"source": self.source, "sourceId": str(self.source_id) if self.source_id else None,
                "kind": self.kind, "severity": self.severity, "title": self.title, "data": self.data,
                "seen": self.seen.isoformat(), "count": self.count}

    @classmethod
    def from_document(cls, home_id, document: dict) -> "Signal":
        return cls(home_id=home_id, source=document["source"], source_id=document["sourceId"],
                   kind=document["kind"], severity=document["severity"], title=document["title"],
                   data=document.get("data") or {}, seen=datetime.datetime.fromisoformat(document["seen"]),
                   count=document.get("count", 1))


@dataclass(frozen=True)
class Rule:
    kind: str
    enabled: bool
    severity: str
    delay_seconds: int
    params: dict


def rules_for(home_ids) -> dict[str, dict[str, Rule]]:
    """Every kind's rule for each home (its own settings over the defaults), in one query."""
    stored: dict[str, dict[str, AlertRule]] = {}
    for row in AlertRule.objects.filter(home_id__in=list(home_ids)):
        stored.setdefault(str(row.home_id), {})[row.kind] = row
    rules = {}
    for home_id in home_ids:
        mine = stored.get(str(home_id), {})
        rules[str(home_id)] = {
            name: (Rule(name, row.enabled, row.severity, row.delay_seconds, {**default_params(kind), **row.params})
                   if (row := mine.get(name)) else
                   Rule(name, True, kind.severity, kind.delay_seconds, default_params(kind)))
            for name, kind in KINDS.items()}
    return rules


# --- events -----------------------------------------------------------------------------------


def alert_event(alert: Alert | dict) -> dict:
    get = (lambda name: alert[name]) if isinstance(alert, dict) else (lambda name: getattr(alert, name))
    return {"alertId": str(get("id")), "kind": get("kind"), "severity": get("severity"), "status": get("status"),
            "title": get("title"), "source": get("source"),
            "sourceId": str(get("source_id")) if get("source_id") else None, "occurrences": get("occurrences"),
            "lastSeenAt": get("last_seen_at").isoformat(), "resolution": get("resolution") or None}


# --- raising and resolving --------------------------------------------------------------------

_UPSERT = f"""
INSERT INTO {Alert._meta.db_table} (id, created_at, updated_at, home_id, source, source_id, kind, severity,
    status, dedupe_key, title, data, occurrences, first_seen_at, last_seen_at, resolution, close_note,
    escalation_level)
SELECT r.id, now(), now(), r.home_id, r.source, r.source_id, r.kind, r.severity, 'open', r.dedupe_key, r.title,
    r.data, r.occurrences, r.seen, r.seen, '', '', 0
FROM jsonb_to_recordset(%s::jsonb) AS r(id uuid, home_id uuid, source text, source_id uuid, kind text,
    severity text, dedupe_key text, title text, data jsonb, occurrences integer, seen timestamptz)
ORDER BY r.home_id, r.dedupe_key
ON CONFLICT (home_id, dedupe_key) WHERE (NOT (status = 'closed'))
DO UPDATE SET occurrences = {Alert._meta.db_table}.occurrences + EXCLUDED.occurrences,
    last_seen_at = GREATEST({Alert._meta.db_table}.last_seen_at, EXCLUDED.last_seen_at),
    data = EXCLUDED.data, updated_at = now()
RETURNING id, xmax = 0, kind, severity, status, title, source, source_id, occurrences, last_seen_at, resolution,
    home_id
"""
_RETURNED = ("id", "inserted", "kind", "severity", "status", "title", "source", "source_id", "occurrences",
             "last_seen_at", "resolution")


def _merged(signals: list[Signal]) -> list[Signal]:
    """One signal per key: the count of all, what the latest saw."""
    merged: dict[tuple, Signal] = {}
    for signal in sorted(signals, key=lambda s: s.seen):
        key = (str(signal.home_id), signal.key)
        if key in merged:
            first = merged[key]
            signal = Signal(**{**signal.__dict__, "count": first.count + signal.count})
        merged[key] = signal
    return list(merged.values())


@transaction.atomic
def alerts_raise(signals: list[Signal]) -> list[dict]:
    """Raise each signal now: a new alert, or more occurrences of the open one, for the whole
    list in one statement (the keys in one order, so two listeners lock them alike). Returns
    what it returned for each alert (id, whether it is new, its fields)."""
    merged = _merged(signals)
    if not merged:
        return []
    document = json.dumps([
        {"id": str(uuid.uuid4()), "home_id": str(signal.home_id), "source": signal.source,
         "source_id": str(signal.source_id) if signal.source_id else None, "kind": signal.kind,
         "severity": signal.severity, "dedupe_key": signal.key, "title": signal.title[:255], "data": signal.data,
         "occurrences": signal.count, "seen": signal.seen.isoformat()} for signal in merged],
        allow_nan=False, separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, [document])
        returned = cursor.fetchall()
    rows, events = [], []
    for values in returned:
        row = dict(zip(_RETURNED, values[:-1]))
        rows.append(row)
        events.append((values[-1], "alert:new" if row["inserted"] else "alert:update", alert_event(row)))
    publish_many(events)
    # A new alert is told to the home's contacts (alerts.notify); a repeat is not told again.
    notify.plan([row["id"] for row in rows if row["inserted"]], step=0)
    return rows


@transaction.atomic
def alerts_observe(*, present: list[Signal], cleared: list[tuple], rules: dict) -> None:
    """What detection saw in one batch: causes present (raised now, or pending for their
    rule's delay; a pending one keeps its due time) and causes cleared ((home id, key,
    reason): their open alert resolved, their pending one dropped)."""
    now_signals, waiting = [], []
    for signal in present:
        rule = rules[str(signal.home_id)][signal.kind]
        (waiting if rule.delay_seconds else now_signals).append((signal, rule))
    if waiting:
        rows = [PendingAlert(home_id=signal.home_id, dedupe_key=signal.key, signal=signal.document(),
                             due_at=signal.seen + datetime.timedelta(seconds=rule.delay_seconds))
                for signal, rule in waiting]
        # An already pending cause keeps its due time: the delay runs from when it began.
        PendingAlert.objects.bulk_create(rows, ignore_conflicts=True)
        # Pending and already raised (a repeat of an open alert): count it there.
        open_keys = {(str(h), k) for h, k in Alert.objects.filter(
            home_id__in={s.home_id for s, _ in waiting}, dedupe_key__in={s.key for s, _ in waiting})
            .exclude(status=Status.CLOSED).values_list("home_id", "dedupe_key")}
        now_signals += [(s, r) for s, r in waiting if (str(s.home_id), s.key) in open_keys]
    if now_signals:
        alerts_raise([signal for signal, _ in now_signals])
    if cleared:
        alerts_resolve(cleared)


def alerts_resolve(cleared: list[tuple]) -> int:
    """Close the open alerts of these (home id, key, reason) as resolved; drop their pending
    causes. The number resolved."""
    homes = [str(home_id) for home_id, _, _ in cleared]
    keys = [key for _, key, _ in cleared]
    reasons = [reason for _, _, reason in cleared]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PendingAlert._meta.db_table} p USING unnest(%s::uuid[], %s::text[]) AS c(h, k)"
                       " WHERE p.home_id = c.h AND p.dedupe_key = c.k", [homes, keys])
        cursor.execute(
            f"UPDATE {Alert._meta.db_table} a SET status = 'closed', resolution = 'resolved', closed_at = now(),"
            " close_note = c.reason, updated_at = now()"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS c(h, k, reason)"
            " WHERE a.home_id = c.h AND a.dedupe_key = c.k AND NOT (a.status = 'closed')"
            f" RETURNING a.home_id, {', '.join('a.' + name for name in _RETURNED if name != 'inserted')}",
            [homes, keys, reasons])
        rows = cursor.fetchall()
    publish_many([(row[0], "alert:update", alert_event(dict(zip([n for n in _RETURNED if n != "inserted"], row[1:]))))
                  for row in rows])
    return len(rows)


def alerts_tick(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Raise the pending causes whose delay is over; the number raised."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(PendingAlert.objects.filter(due_at__lte=now).select_for_update(skip_locked=True)
                   .order_by("due_at")[:batch])
        if not due:
            return 0
        PendingAlert.objects.filter(pk__in=[p.pk for p in due]).delete()
        alerts_raise([Signal.from_document(p.home_id, p.signal) for p in due])
    return len(due)


def alerts_escalate_due(*, now: datetime.datetime | None = None, batch: int = 200) -> int:
    """Critical alerts nobody acknowledged within their home's escalate_after_minutes (again
    after each further period): escalated by the system and sent to the next tier, up to
    MAX_ESCALATIONS times. The number escalated."""
    now = now or timezone.now()
    escalated = 0
    with transaction.atomic():
        candidates = list(Alert.objects.filter(severity="critical", status__in=[Status.OPEN, Status.ESCALATED],
                                               escalation_level__lt=MAX_ESCALATIONS)
                          .select_for_update(skip_locked=True).order_by("first_seen_at")[:batch])
        policies = {p.home_id: p for p in NotificationPolicy.objects.filter(home_id__in={a.home_id for a in candidates})}
        for alert in candidates:
            minutes = (policies.get(alert.home_id) or NotificationPolicy()).escalate_after_minutes
            if not minutes or alert.first_seen_at + datetime.timedelta(minutes=minutes * (alert.escalation_level + 1)) > now:
                continue
            model_update(instance=alert, data={"status": Status.ESCALATED, "escalated_at": now, "escalated_by": None,
                                               "escalation_level": alert.escalation_level + 1})
            publish_many([(alert.home_id, "alert:update", alert_event(alert))])
            notify.plan([alert.pk], step=alert.escalation_level)
            escalated += 1
    return escalated


# --- the people's steps -----------------------------------------------------------------------

STEPS = {
    # step: (statuses it may start from, the status it leads to, the verb for messages)
    "acknowledge": ({Status.OPEN, Status.ESCALATED}, Status.ACKNOWLEDGED, "acknowledged"),
    "escalate": ({Status.OPEN, Status.ACKNOWLEDGED}, Status.ESCALATED, "escalated"),
    "close": ({Status.OPEN, Status.ACKNOWLEDGED, Status.ESCALATED}, Status.CLOSED, "closed"),
}


@transaction.atomic
def alert_step(*, alert: Alert, step: str, actor, note: str = "") -> Alert:
    """Acknowledge, escalate or close an alert; a step its status does not allow is a 409
    naming the status."""
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    allowed, to, verb = STEPS[step]
    if alert.status not in allowed:
        raise ApplicationError(AlertError.ILLEGAL_TRANSITION, f"The alert is {alert.status}: it cannot be {verb}.",
                               fields={"status": [alert.status]})
    now = timezone.now()
    data = {"status": to}
    if step == "acknowledge":
        data.update(acknowledged_at=now, acknowledged_by=actor)
    elif step == "escalate":
        data.update(escalated_at=now, escalated_by=actor)
    else:
        data.update(closed_at=now, closed_by=actor, resolution=Alert.Resolution.CLOSED, close_note=note)
    model_update(instance=alert, data=data)
    publish_many([(alert.home_id, "alert:update", alert_event(alert))])
    return alert


# --- rules ------------------------------------------------------------------------------------


@transaction.atomic
def alert_rule_update(*, home, kind: str, enabled: bool | None = None, severity: str | None = None,
                      delay_seconds: int | None = None, params: dict | None = None) -> Rule:
    """Change a home's rule for a kind (validated by the API); returns the rule in force."""
    spec = KINDS[kind]
    current = rules_for([home.pk])[str(home.pk)][kind]
    row, _ = AlertRule.objects.select_for_update().get_or_create(
        home=home, kind=kind, defaults={"severity": current.severity, "delay_seconds": current.delay_seconds,
                                        "enabled": current.enabled, "params": {}})
    data = {}
    if enabled is not None:
        data["enabled"] = enabled
    if severity is not None:
        data["severity"] = severity
    if delay_seconds is not None:
        data["delay_seconds"] = min(delay_seconds, MAX_DELAY_SECONDS)
    if params:
        data["params"] = {**row.params, **{k: v for k, v in params.items() if k in spec.params}}
    changed = model_update(instance=row, data=data)
    rule = rules_for([home.pk])[str(home.pk)][kind]
    if changed:
        publish_many([(home.pk, "alert-rule:update", {"kind": kind, "enabled": rule.enabled,
                                                       "severity": rule.severity,
                                                       "delaySeconds": rule.delay_seconds})])
    return rule


# --- contacts and the policy ------------------------------------------------------------------


def _contact_event(contact: Contact) -> dict:
    # Every member's app hears of it; the addresses stay in the contacts API (members and above).
    return {"contactId": str(contact.pk), "name": contact.name, "tier": contact.tier, "enabled": contact.enabled}


@transaction.atomic
def contact_create(*, home, **fields) -> Contact:
    contact = Contact.objects.create(home=home, **fields)
    publish_many([(home.pk, "contact:created", _contact_event(contact))])
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, **fields) -> Contact:
    if model_update(instance=contact, data=fields):
        publish_many([(contact.home_id, "contact:update", _contact_event(contact))])
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact) -> None:
    # Deliveries keep their record (who it went to, then); the contact link is cleared.
    event = _contact_event(contact)
    home_id = contact.home_id
    contact.delete()
    publish_many([(home_id, "contact:deleted", event)])


@transaction.atomic
def policy_update(*, home, **fields) -> NotificationPolicy:
    policy, _ = NotificationPolicy.objects.select_for_update().get_or_create(home=home)
    changed = model_update(instance=policy, data=fields)
    if changed:
        publish_many([(home.pk, "notification-policy:update", {"changed": [camel_key(name) for name in changed
                                                                          if name != "updated_at"]})])
    return policy
