"""Reads: energy per period (kWh, cost, per device and room, current power, comparison) and budget status."""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection

from devices.models import Device
from homes.models import Room

from . import live, periods, pricing
from .models import Budget, Tariff
from .periods import Span

ENERGY_FIELD = "energy"  # Wh consumed since the device's previous report


def _round(value, places=3):
    return None if value is None else round(float(value), places)


def energy_by_device(home, span: Span, *, room_id=None) -> tuple[dict, str | None, str]:
    """{(device_id, room_id): {"kwh", "cost"}} for the span, the currency, and the rollup used."""
    tz = home.tz
    first_day = span.start.astimezone(tz).date()
    last_day = (span.end - datetime.timedelta(microseconds=1)).astimezone(tz).date() + datetime.timedelta(days=1)
    tariffs = pricing.tariffs_for(home, first_day, last_day)
    size = periods.rollup_size(span, tz)
    if size == "1d" and any(t.kind == Tariff.Kind.TIME_OF_USE for t in tariffs):
        size = "1h"  # a day's kWh cannot be split by hour-of-day prices
    segment_sql, segment_params = "-1", []
    if tariffs:
        cases = " ".join("WHEN local_day >= %s THEN %s" for _ in tariffs)
        segment_sql = f"CASE {cases} ELSE -1 END"
        for index in reversed(range(len(tariffs))):
            segment_params += [tariffs[index].valid_from, index]
    room_sql = "AND room_id = %s" if room_id else ""
    sql = f"""
        SELECT device_id::text, room_id::text, {segment_sql} AS segment, local_hour, sum(total)
        FROM (
            SELECT device_id, room_id, sum AS total,
                   (bucket AT TIME ZONE %s)::date AS local_day,
                   extract(hour FROM bucket AT TIME ZONE %s)::int AS local_hour
            FROM energy_rollup
            WHERE home_id = %s AND size = %s AND bucket >= %s AND bucket < %s
              AND measurement = 'telemetry' AND field = %s {room_sql}
        ) AS buckets
        GROUP BY 1, 2, 3, 4
    """
    params = [*segment_params, tz.key, tz.key, home.pk, size, span.start, span.end, ENERGY_FIELD]
    if room_id:
        params.append(room_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    prices = [pricing.hourly_prices(t) for t in tariffs]
    out: dict[tuple, dict] = defaultdict(lambda: {"kwh": Decimal(0), "cost": Decimal(0) if tariffs else None})
    for device_id, room, segment, hour, wh in rows:
        kwh = Decimal(str(wh)) / 1000
        entry = out[(device_id, room)]
        entry["kwh"] += kwh
        if segment >= 0:
            entry["cost"] += kwh * prices[segment][hour]
    currency = tariffs[-1].currency if tariffs else None
    return dict(out), currency, size


def _totals(per_device: dict) -> tuple[Decimal, Decimal | None]:
    kwh = sum((v["kwh"] for v in per_device.values()), Decimal(0))
    costs = [v["cost"] for v in per_device.values() if v["cost"] is not None]
    return kwh, (sum(costs, Decimal(0)) if costs else None)


def energy_report(home, span: Span, previous: Span, *, room=None, label: str = "range", now=None) -> dict:
    """What the energy endpoints return: the period, its breakdown, live power and the comparison."""
    room_id = str(room.pk) if room else None
    per_device, currency, size = energy_by_device(home, span, room_id=room_id)
    previous_device, previous_currency, _ = energy_by_device(home, previous, room_id=room_id)
    power = live.current_power(str(home.pk))

    devices = Device.objects.in_home(home)
    if room:
        devices = devices.filter(room=room)
    known = {str(d.pk): d for d in devices.only("id", "name", "type", "room_id")}
    rooms = {str(r.pk): r.name for r in Room.objects.in_home(home).only("id", "name")}

    by_device: dict[str, dict] = {}
    for device_id, device in known.items():
        by_device[device_id] = {"deviceId": device_id, "name": device.name, "type": device.type,
                                "roomId": str(device.room_id), "kwh": Decimal(0), "cost": None}
    by_room: dict[str, dict] = {}
    for (device_id, room_key), values in per_device.items():
        entry = by_device.setdefault(device_id, {"deviceId": device_id, "name": None, "type": None,
                                                 "roomId": room_key, "kwh": Decimal(0), "cost": None})
        entry["kwh"] += values["kwh"]
        if values["cost"] is not None:
            entry["cost"] = (entry["cost"] or Decimal(0)) + values["cost"]
        if room_key:
            slot = by_room.setdefault(room_key, {"roomId": room_key, "name": rooms.get(room_key), "kwh": Decimal(0), "cost": None})
            slot["kwh"] += values["kwh"]
            if values["cost"] is not None:
                slot["cost"] = (slot["cost"] or Decimal(0)) + values["cost"]
    for room_key, name in rooms.items():
        if room is None or room_key == room_id:
            by_room.setdefault(room_key, {"roomId": room_key, "name": name, "kwh": Decimal(0), "cost": None})

    total_kwh, total_cost = _totals(per_device)
    previous_kwh, previous_cost = _totals(previous_device)
    current = {d: w for d, (_, w) in power.items() if d in known}
    for device_id, entry in by_device.items():
        entry["currentPowerW"] = current.get(device_id)
    change = total_kwh - previous_kwh
    return {
        "homeId": str(home.pk),
        "roomId": room_id,
        "period": label,
        "timezone": home.timezone,
        "from": span.start.astimezone(home.tz).isoformat(),
        "to": span.end.astimezone(home.tz).isoformat(),
        "totalKwh": _round(total_kwh),
        "cost": _round(total_cost, 2),
        "currency": currency or previous_currency,
        "currentPowerW": _round(sum(current.values()), 1) if current else 0.0,
        "devices": sorted(
            ({**e, "kwh": _round(e["kwh"]), "cost": _round(e["cost"], 2)} for e in by_device.values()),
            key=lambda e: (-e["kwh"], e["name"] or ""),
        ),
        "rooms": sorted(
            ({**e, "kwh": _round(e["kwh"]), "cost": _round(e["cost"], 2)} for e in by_room.values()),
            key=lambda e: (-e["kwh"], e["name"] or ""),
        ),
        "previous": {
            "from": previous.start.astimezone(home.tz).isoformat(),
            "to": previous.end.astimezone(home.tz).isoformat(),
            "totalKwh": _round(previous_kwh),
            "cost": _round(previous_cost, 2),
        },
        "change": {
            "kwh": _round(change),
            "percent": _round(change / previous_kwh * 100, 1) if previous_kwh else None,
        },
        "source": f"rollup:{size}",
    }


def budget_status(*, home, now: datetime.datetime | None = None) -> dict | None:
    """Usage of the current local month against the home's budget, with a linear month-end forecast.

    The alerts feature polls this: `exceeded` / `forecastExceeded` say whether to alert, and
    `Budget.notified_month` records that this month's crossing was already announced.
    """
    budget = Budget.objects.in_home(home).first()
    if budget is None:
        return None
    now = now or datetime.datetime.now(datetime.timezone.utc)
    month, _ = periods.period_spans("month", periods.local_today(home.tz, now), home.tz)
    per_device, currency, _ = energy_by_device(home, month)
    kwh, cost = _totals(per_device)
    used = kwh if budget.kind == Budget.Kind.KWH else (cost or Decimal(0))
    elapsed = max((now - month.start) / month.duration, 1e-9)
    forecast = used / Decimal(str(min(elapsed, 1.0)))
    amount = Decimal(budget.amount)
    return {
        "kind": budget.kind,
        "amount": _round(amount, 2),
        "currency": currency if budget.kind == Budget.Kind.COST else None,
        "month": month.start.astimezone(home.tz).date().isoformat(),
        "from": month.start.astimezone(home.tz).isoformat(),
        "to": month.end.astimezone(home.tz).isoformat(),
        "usedKwh": _round(kwh),
        "usedCost": _round(cost, 2),
        "used": _round(used, 3),
        "percentUsed": _round(used / amount * 100, 1) if amount else None,
        "forecast": _round(forecast, 3),
        "forecastPercent": _round(forecast / amount * 100, 1) if amount else None,
        "exceeded": used > amount,
        "forecastExceeded": forecast > amount,
        "notifiedMonth": budget.notified_month.isoformat() if budget.notified_month else None,
    }
