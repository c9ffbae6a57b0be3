"""From what devices and hubs report to alert signals (alerts.services), inside the
transaction that landed the reports: one look at the rules of the batch's homes and one at
the open and pending alerts it could resolve, only for batches that carry a watched field.

- telemetry (devices.state_changes.Reading): smoke, leak, battery, temperature, by each kind's
  thresholds (alerts.kinds);
- hubs (hubs.status_changes): offline raises `hub_offline` after the rule's delay (5 minutes
  by default); back online resolves it, or drops it before it was raised;
- devices posting over HTTP (`check_devices`, beat every minute): one not heard from (its
  token's last heartbeat or readings) for the rule's minutes raises `device_silent`; heard
  from again resolves it;
- energy budgets (`check_budgets`, beat every 10 minutes): the month's usage over the budget
  raises `budget_exceeded`, a month-end forecast over it `budget_forecast`, each once a month;
  a new month, or a budget raised above the usage, resolves them.
"""
import datetime
from django.db import connection

from devices.models import Device
from energy import selectors as energy_selectors
from energy import services as energy_services
from energy.models import Budget, IngestionToken
from hubs.models import Hub

from . import services
from .kinds import BY_FIELD, KINDS, dedupe_key
from .models import Alert, PendingAlert, Source


def _watched(home_ids, keys) -> set[tuple[str, str]]:
    """Which of these keys have an open alert or a pending cause, as (home id, key)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT home_id::text, dedupe_key FROM {Alert._meta.db_table}"
            " WHERE home_id = ANY(%s::uuid[]) AND dedupe_key = ANY(%s::text[]) AND NOT (status = 'closed')"
            f" UNION SELECT home_id::text, dedupe_key FROM {PendingAlert._meta.db_table}"
            " WHERE home_id = ANY(%s::uuid[]) AND dedupe_key = ANY(%s::text[])",
            [list(home_ids), list(keys), list(home_ids), list(keys)])
        return set(cursor.fetchall())


def on_readings(readings) -> None:
    watched = [r for r in readings if not BY_FIELD.keys().isdisjoint(r.fields)]
    if not watched:
        return
    homes = {str(r.home_id) for r in watched}
    rules = services.rules_for(homes)
    present, cleared = [], []  # (reading, kind, value)
    for reading in watched:
        for name, value in reading.fields.items():
            for kind in BY_FIELD.get(name, ()):
                rule = rules[str(reading.home_id)][kind.name]
                seen = kind.detect(rule.params, value)
                if seen is True and rule.enabled:
                    present.append((reading, kind, value))
                elif seen is False:
                    cleared.append((reading, kind, value))
    if cleared:
        open_now = _watched(homes, {dedupe_key(Source.DEVICE, r.device_id, k.name) for r, k, _ in cleared})
        cleared = [(r, k, v) for r, k, v in cleared
                   if (str(r.home_id), dedupe_key(Source.DEVICE, r.device_id, k.name)) in open_now]
    if not present and not cleared:
        return
    names = dict(Device.objects.filter(pk__in={r.device_id for r, _, _ in present}).values_list("pk", "name")) \
        if present else {}
    signals = [services.Signal(
        home_id=reading.home_id, source=Source.DEVICE, source_id=reading.device_id, kind=kind.name,
        severity=rules[str(reading.home_id)][kind.name].severity,
        title=kind.title.format(device=names.get(reading.device_id, "A device"), value=value),
        seen=reading.ts, data={"field": kind.field, "value": value}) for reading, kind, value in present]
    services.alerts_observe(present=signals, rules=rules, cleared=[
        (reading.home_id, dedupe_key(Source.DEVICE, reading.device_id, kind.name),
         f"{kind.field} read {value:g} at {reading.ts.isoformat()}") for reading, kind, value in cleared])


def on_hub_status(changes) -> None:
    offline = [c for c in changes if c.status == Hub.Status.OFFLINE]
    online = [c for c in changes if c.status == Hub.Status.ONLINE and c.previous != Hub.Status.ONLINE]
    if not offline and not online:
        return
    rules = services.rules_for({str(c.home_id) for c in offline})
    offline = [c for c in offline if rules[str(c.home_id)]["hub_offline"].enabled]
    names = dict(Hub.objects.filter(pk__in={c.hub_id for c in offline}).values_list("pk", "name")) if offline else {}
    kind = KINDS["hub_offline"]
    services.alerts_observe(
        rules=rules,
        present=[services.Signal(home_id=c.home_id, source=Source.HUB, source_id=c.hub_id, kind=kind.name,
                                 severity=rules[str(c.home_id)][kind.name].severity,
                                 title=kind.title.format(hub=names.get(c.hub_id) or str(c.hub_id)[:8]), seen=c.ts,
                                 data={"since": c.ts.isoformat()}) for c in offline],
        cleared=[(c.home_id, dedupe_key(Source.HUB, c.hub_id, kind.name), f"the hub came back online at {c.ts.isoformat()}")
                 for c in online])



def check_budgets(*, now: datetime.datetime | None = None) -> dict:
    """Every home's budget against its month so far; counts of what was raised and resolved."""
    counts = {"raised": 0, "resolved": 0}
    for budget in Budget.objects.select_related("home").order_by("pk").iterator(chunk_size=200):
        status = energy_selectors.budget_status(home=budget.home, now=now)
        if status is None:
            continue
        home = budget.home
        rules = services.rules_for([home.pk])
        month = datetime.date.fromisoformat(status["month"])
        local_day = (now or datetime.datetime.now(datetime.UTC)).astimezone(home.tz).day
        present, cleared = [], []
        exceeded_rule, forecast_rule = rules[str(home.pk)]["budget_exceeded"], rules[str(home.pk)]["budget_forecast"]
        if status["exceeded"]:
            if exceeded_rule.enabled and budget.notified_month != month:
                present.append(_budget_signal(home, budget, "budget_exceeded", status["percentUsed"], status,
                                              exceeded_rule.severity))
                energy_services.budget_mark_notified(budget=budget, month=month)
        else:
            cleared.append((home.pk, dedupe_key(Source.ENERGY, budget.pk, "budget_exceeded"),
                            f"{status['percentUsed'] or 0:g} % of the budget used this month ({status['month']})"))
        if status["forecastExceeded"] and not status["exceeded"]:
            if (forecast_rule.enabled and local_day > forecast_rule.params["after_days"]
                    and not Alert.objects.filter(home=home, source_id=budget.pk, kind="budget_forecast",
                                                 data__month=status["month"]).exists()):
                present.append(_budget_signal(home, budget, "budget_forecast", status["forecastPercent"], status,
                                              forecast_rule.severity))
        elif not status["forecastExceeded"]:
            cleared.append((home.pk, dedupe_key(Source.ENERGY, budget.pk, "budget_forecast"),
                            f"the forecast is {status['forecastPercent'] or 0:g} % of the budget"))
        if cleared:
            cleared = [c for c in cleared if (str(c[0]), c[1]) in _watched([str(home.pk)], {c[1] for c in cleared})]
        if present or cleared:
            services.alerts_observe(present=present, cleared=cleared, rules=rules)
            counts["raised"] += len(present)
            counts["resolved"] += len(cleared)
    return counts


def _budget_signal(home, budget, kind: str, percent, status: dict, severity: str) -> services.Signal:
    return services.Signal(
        home_id=home.pk, source=Source.ENERGY, source_id=budget.pk, kind=kind, severity=severity,
        title=KINDS[kind].title.format(value=percent or 0), seen=datetime.datetime.now(datetime.UTC),
        data={"month": status["month"], "used": status["used"], "forecast": status["forecast"],
              "amount": status["amount"], "budgetKind": status["kind"]})


def check_devices(*, now: datetime.datetime | None = None) -> dict:
    """Every device with an ingestion token that has been heard from once: silent for longer
    than its home's `device_silent` minutes raises; heard from again resolves."""
    now = now or datetime.datetime.now(datetime.UTC)
    rows = list(IngestionToken.objects.filter(last_used_at__isnull=False)
                .values_list("device_id", "device__home_id", "device__name", "last_used_at"))
    if not rows:
        return {"raised": 0, "resolved": 0}
    homes = {str(home_id) for _, home_id, _, _ in rows}
    rules = services.rules_for(homes)
    keys = {dedupe_key(Source.DEVICE, device_id, "device_silent") for device_id, _, _, _ in rows}
    watched = _watched(homes, keys)
    present, cleared = [], []
    for device_id, home_id, name, heard in rows:
        rule = rules[str(home_id)]["device_silent"]
        key = dedupe_key(Source.DEVICE, device_id, "device_silent")
        minutes = (now - heard).total_seconds() / 60
        if minutes > rule.params["after_minutes"]:
            if rule.enabled and (str(home_id), key) not in watched:
                present.append(services.Signal(
                    home_id=home_id, source=Source.DEVICE, source_id=device_id, kind="device_silent",
                    severity=rule.severity, title=KINDS["device_silent"].title.format(device=name, value=round(minutes)),
                    seen=now, data={"lastHeardAt": heard.isoformat()}))
        elif (str(home_id), key) in watched:
            cleared.append((home_id, key, f"heard from at {heard.isoformat()}"))
    if present or cleared:
        services.alerts_observe(present=present, cleared=cleared, rules=rules)
    return {"raised": len(present), "resolved": len(cleared)}
