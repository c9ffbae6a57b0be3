"""Apply a batch of hub reports in one transaction: the ingest dispatch table and its handlers.

Every handler is idempotent: a report the database already reflects (same or older `ts`,
a command already confirmed, a session already learned) changes nothing, so a message the
broker redelivers after a crash is harmless.

Events go out after commit, so a listener killed between its commit and its publish would
lose them; a redelivered report (DUP flag) that the database already holds therefore sends
its events again, in the order the broker redelivers them. Websocket events are thus
at-least-once across a crash: a repeat carries the same deviceId/reportedAt (or
commandId/status) as the first, and a client ignores a device:update older than the one
it has.
"""
import datetime
import json
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from devices import capabilities, history
from devices.services import device_event
from hubs.models import Hub
from hubs.services import hub_event
from realtime.events import publish_many
from veahome.logsafe import untrusted

from . import messages, registry
from .messages import Rejected, Report
from .registry import DEVICE, HUB, report_kind

logger = logging.getLogger(__name__)

# How often a chatty hub's last_seen_at is rewritten; the heartbeat timeout is minutes.
SEEN_RESOLUTION_SECONDS = 5


def _decimal(value) -> Decimal | None:
    # psycopg refuses a list mixing the row's Decimals with a report's floats.
    return None if value is None else Decimal(str(value))


def _json(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


@dataclass
class HubRow:
    pk: uuid.UUID
    home_id: uuid.UUID | None
    status: str
    last_seen_at: object
    wifi_connected: bool


@dataclass
class DeviceRow:
    """The columns ingest reads and writes, shaped so devices.services.device_event accepts it."""

    pk: uuid.UUID
    home_id: uuid.UUID
    room_id: uuid.UUID
    hub_id: uuid.UUID | None
    name: str
    type: str
    category: str
    is_active: bool
    value: object
    state: dict
    reported_at: object
    telemetry_at: object
    signal_mappings: dict


@dataclass
class Outcome:
    applied: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)


class Batch:
    """The rows a batch touches (locked) and the effects it has gathered so far."""

    def __init__(self, reports: list[Report]):
        self.now = timezone.now()
        self.hubs: dict[uuid.UUID, HubRow] = {}
        self.devices: dict[uuid.UUID, DeviceRow] = {}
        self.sessions: dict[uuid.UUID, dict] = {}
        self.dirty_hubs: set = set()
        self.dirty_devices: set = set()
        self.dirty_signals: set = set()
        self.learned_sessions: set = set()
        self.confirmations: dict[uuid.UUID, tuple[uuid.UUID, dict, bool]] = {}
        self.points: list = []
        # Readings older than their device's newest: a hub's buffer after a reconnection.
        self.late_points: list = []
        self.late_keys: set = set()  # (device id, ts) of readings already stored or taken in this batch
        self.events: list[tuple] = []
        self._load(reports)

    def _load(self, reports: list[Report]) -> None:
        hub_ids = sorted({r.hub_id for r in reports})
        device_ids = sorted({r.device_id for r in reports if r.device_id})
        session_ids = sorted({r.body["sessionId"] for r in reports if r.kind == "learned"})
        # Always hubs, then devices, each in id order: concurrent listeners lock in the same
        # order and so never deadlock.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, home_id, status, last_seen_at, wifi_connected FROM hubs_hub"
                " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [hub_ids])
            self.hubs = {row[0]: HubRow(*row) for row in cursor.fetchall()}
            if device_ids:
                cursor.execute(
                    "SELECT id, home_id, room_id, hub_id, name, type, category, is_active, value, state,"
                    " reported_at, telemetry_at, signal_mappings FROM devices_device"
                    " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [device_ids])
                for row in cursor.fetchall():
                    device = DeviceRow(*row)
                    device.state, device.signal_mappings = _json(device.state), _json(device.signal_mappings)
                    self.devices[device.pk] = device
            if session_ids:
                cursor.execute(
                    "SELECT id, device_id, action, status FROM devices_learnsession"
                    " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [session_ids])
                self.sessions = {row[0]: {"device_id": row[1], "action": row[2], "status": row[3]}
                                 for row in cursor.fetchall()}
        late = {(str(r.device_id), r.ts) for r in reports if r.kind == "telemetry" and r.device_id in self.devices
                and self.devices[r.device_id].telemetry_at is not None and r.ts <= self.devices[r.device_id].telemetry_at}
        if late:
            # One lookup for the whole batch: which late readings the store already holds.
            self.late_keys = history.stored(measurement=history.TELEMETRY, keys=late)

    # -- lookups shared by the handlers --

    def hub_of(self, report: Report) -> HubRow:
        hub = self.hubs.get(report.hub_id)
        if hub is None:
            raise Rejected("unknown_hub", str(report.hub_id))
        if hub.home_id is None:
            raise Rejected("hub_not_paired", str(report.hub_id))
        return hub

    def device_of(self, report: Report, hub: HubRow) -> DeviceRow:
        device = self.devices.get(report.device_id)
        if device is None:
            raise Rejected("unknown_device", str(report.device_id))
        if device.hub_id != hub.pk:
            raise Rejected("device_not_on_hub", f"device {device.pk} is not on hub {hub.pk}")
        return device

    def hub_seen(self, hub: HubRow, *, online: bool = True, wifi_connected: bool | None = None) -> None:
        """Any report is a sign of life; a status report may also say the hub went away."""
        if wifi_connected is not None and wifi_connected != hub.wifi_connected:
            hub.wifi_connected = wifi_connected
            self.dirty_hubs.add(hub.pk)
        if online:
            if hub.last_seen_at is None or (self.now - hub.last_seen_at).total_seconds() >= SEEN_RESOLUTION_SECONDS:
                hub.last_seen_at = self.now
                self.dirty_hubs.add(hub.pk)
        target = Hub.Status.ONLINE if online else Hub.Status.OFFLINE
        if hub.status != target:
            hub.status = target
            hub.last_seen_at = hub.last_seen_at or self.now
            self.dirty_hubs.add(hub.pk)
            self.events.append((hub.home_id, "hub:status", hub_event(hub)))
            self.points.append(history.hub_status_point(home_id=hub.home_id, hub_id=hub.pk, ts=self.now, online=online))

    # -- writes: one statement per table for the whole batch --

    def flush(self) -> None:
        with connection.cursor() as cursor:
            if self.dirty_hubs:
                rows = [self.hubs[pk] for pk in self.dirty_hubs]
                cursor.execute(
                    "UPDATE hubs_hub AS h SET status = v.status, last_seen_at = v.seen, wifi_connected = v.wifi,"
                    " updated_at = %s"
                    " FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[], %s::bool[]) AS v(id, status, seen, wifi)"
                    " WHERE h.id = v.id",
                    [self.now, [r.pk for r in rows], [r.status for r in rows], [r.last_seen_at for r in rows],
                     [r.wifi_connected for r in rows]])
            if self.dirty_devices:
                rows = [self.devices[pk] for pk in self.dirty_devices]
                cursor.execute(
                    "UPDATE devices_device AS d SET is_active = v.is_active, value = v.value,"
                    " state = v.state::jsonb, reported_at = v.reported_at, telemetry_at = v.telemetry_at,"
                    " updated_at = %s"
                    " FROM unnest(%s::uuid[], %s::bool[], %s::numeric[], %s::text[], %s::timestamptz[],"
                    " %s::timestamptz[]) AS v(id, is_active, value, state, reported_at, telemetry_at)"
                    " WHERE d.id = v.id",
                    [self.now, [r.pk for r in rows], [r.is_active for r in rows], [_decimal(r.value) for r in rows],
                     [json.dumps(r.state) for r in rows], [r.reported_at for r in rows],
                     [r.telemetry_at for r in rows]])
            for pk in self.dirty_signals:
                cursor.execute("UPDATE devices_device SET signal_mappings = %s::jsonb, updated_at = %s WHERE id = %s",
                               [json.dumps(self.devices[pk].signal_mappings), self.now, pk])
            if self.learned_sessions:
                cursor.execute(
                    "UPDATE devices_learnsession SET status = 'learned', finished_at = %s, updated_at = %s"
                    " WHERE id = ANY(%s)", [self.now, self.now, list(self.learned_sessions)])
            if self.confirmations:
                self._confirm(cursor)
        history.write(self.points)
        history.write_late(self.late_points)
        publish_many(self.events)

    def _confirm(self, cursor) -> None:
        ids = list(self.confirmations)
        cursor.execute(
            "UPDATE devices_command AS c SET status = 'confirmed',"
            " finished_at = CASE WHEN c.status = 'confirmed' THEN c.finished_at ELSE %s END,"
            " updated_at = %s, reported_state = v.state::jsonb"
            " FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::bool[]) AS v(id, device_id, state, redelivered)"
            # The device must match: a hub cannot confirm another device's command.
            " WHERE c.id = v.id AND c.device_id = v.device_id"
            " AND (c.status IN ('pending', 'sent') OR (c.status = 'confirmed' AND v.redelivered))"
            " RETURNING c.id, c.home_id, c.device_id, c.desired_state, c.sent_at, c.finished_at",
            [self.now, self.now, ids, [self.confirmations[i][0] for i in ids],
             [json.dumps(self.confirmations[i][1]) for i in ids], [self.confirmations[i][2] for i in ids]])
        for command_id, home_id, device_id, desired, sent_at, finished_at in cursor.fetchall():
            self.events.append((home_id, "command:status", {
                "commandId": str(command_id), "deviceId": str(device_id), "status": "confirmed",
                "desiredState": _json(desired), "sentAt": sent_at.isoformat() if sent_at else None,
                "finishedAt": finished_at.isoformat(),
            }))


# --- handlers: one per report kind ---


@report_kind("state", scope=DEVICE, check=messages.check_state)
def ingest_state(batch: Batch, report: Report) -> bool:
    hub = batch.hub_of(report)
    device = batch.device_of(report, hub)
    batch.hub_seen(hub)
    state = report.body["state"]
    problem = capabilities.check_reported_state(device.type, state)
    if problem:
        raise Rejected("out_of_range", problem)
    command_id = report.body.get("commandId")
    if command_id is not None:
        batch.confirmations[command_id] = (device.pk, state, report.redelivered)
    if device.reported_at is not None and report.ts <= device.reported_at:
        if report.redelivered:
            batch.events.append((device.home_id, "device:update", _state_event(device, command_id, report)))
        return False
    if "isActive" in state:
        device.is_active = state["isActive"]
    if "value" in state:
        device.value = state["value"]
    device.state = {**device.state, **state}
    device.reported_at = report.ts
    batch.dirty_devices.add(device.pk)
    batch.points.append(history.state_point(home_id=device.home_id, device_id=device.pk, room_id=device.room_id,
                                            ts=report.ts, is_active=device.is_active, value=device.value))
    batch.events.append((device.home_id, "device:update", _state_event(device, command_id, report)))
    return True


def _state_event(device: DeviceRow, command_id, report: Report) -> dict:
    """device:update for the state this report carried (a repeat may be older than the row)."""
    data = device_event(device)
    if report.ts != device.reported_at:
        state = report.body["state"]
        data["state"] = {**data["state"], **state}
    data["reportedAt"] = report.ts.isoformat()
    if command_id is not None:
        data["commandId"] = str(command_id)
    return data


@report_kind("telemetry", scope=DEVICE, check=messages.check_telemetry)
def ingest_telemetry(batch: Batch, report: Report) -> bool:
    hub = batch.hub_of(report)
    device = batch.device_of(report, hub)
    batch.hub_seen(hub)
    fields, problem = capabilities.clean_telemetry(report.body)
    if problem:
        raise Rejected("out_of_range", problem)
    point = history.Point(measurement=history.TELEMETRY, home_id=str(device.home_id), device_id=str(device.pk),
                          room_id=str(device.room_id), ts=report.ts, fields=fields)
    if device.telemetry_at is not None and report.ts <= device.telemetry_at:
        # Buffered while the hub was offline (or redelivered): kept once, counted in energy.
        key = (point.device_id, report.ts)
        if key in batch.late_keys:
            return False
        if batch.now - report.ts > datetime.timedelta(days=settings.ENERGY_RAW_RETENTION_DAYS):
            raise Rejected("too_old", f"ts {report.ts.isoformat()} is older than the raw retention")
        batch.late_keys.add(key)
        batch.late_points.append(point)
        return True
    device.telemetry_at = report.ts
    batch.dirty_devices.add(device.pk)
    batch.points.append(point)
    batch.late_keys.add((point.device_id, report.ts))  # a repeat later in this batch is a duplicate
    return True


@report_kind("learned", scope=DEVICE, check=messages.check_learned)
def ingest_learned(batch: Batch, report: Report) -> bool:
    hub = batch.hub_of(report)
    device = batch.device_of(report, hub)
    batch.hub_seen(hub)
    session_id = report.body["sessionId"]
    session = batch.sessions.get(session_id)
    if session is None or session["device_id"] != device.pk:
        raise Rejected("unknown_session", str(session_id))
    if session["status"] == "learned":
        return False
    if session["status"] != "open":
        raise Rejected("session_closed", f"session {session_id} is {session['status']}")
    action, signal = session["action"], report.body["signal"]
    session["status"] = "learned"
    device.signal_mappings = {**device.signal_mappings, action: signal}
    batch.dirty_signals.add(device.pk)
    batch.learned_sessions.add(session_id)
    batch.events.append((device.home_id, "learn:status", {
        "sessionId": str(session_id), "deviceId": str(device.pk), "hubId": str(hub.pk),
        "action": action, "status": "learned",
    }))
    return True


@report_kind("status", scope=HUB, check=messages.check_status)
def ingest_status(batch: Batch, report: Report) -> bool:
    hub = batch.hub_of(report)
    before = (hub.status, hub.last_seen_at, hub.wifi_connected)
    online = report.body["status"] == "online"
    wifi = report.body.get("wifiConnected")
    # A hub that comes online after Wi-Fi setup is on the network it was given.
    if not isinstance(wifi, bool):
        wifi = True if online and hub.status == Hub.Status.CONNECTING else None
    batch.hub_seen(hub, online=online, wifi_connected=wifi)
    return (hub.status, hub.last_seen_at, hub.wifi_connected) != before


def _log_rejected(report: Report, exc: Rejected) -> None:
    logger.warning("skipped %s report on %s: %s", report.kind, untrusted(report.raw.topic) if report.raw else "-", exc)


@transaction.atomic
def ingest(reports: list[Report]) -> Outcome:
    """Apply reports in arrival order; rejected ones are logged and counted, never raised."""
    outcome = Outcome()
    if not reports:
        return outcome
    batch = Batch(reports)
    for report in reports:
        try:
            if registry.get(report.kind).apply(batch, report):
                outcome.applied += 1
            else:
                outcome.duplicates += 1
        except Rejected as exc:
            _log_rejected(report, exc)
            outcome.rejected[exc.reason] += 1
    batch.flush()
    return outcome
