"""Devices' half of the hub link: every write a hub report makes to devices' tables.

`hubs.ingest` owns the transport, the batch's transaction and the hub rows; for each batch
it hands the device work to a `DeviceWork`, which locks the devices (and learning
sessions) the batch names, lets the report handlers below change them in memory, and
writes them back with one statement per table. The device row is read with every column
of the model (`DeviceRow`), so a new Device field needs no change here; a state lands on
it through `devices.services.device_state_apply`, as it does from the REST path; the
events are the ones the REST path publishes (`device_event`, `command_event`,
`learn_event`).
"""
import dataclasses
import datetime
import functools
import json
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.db import connection

from energy import points as history_points
from hubs.ingest import messages
from hubs.ingest.messages import Rejected, Report
from hubs.ingest.registry import DEVICE, report_kind

from . import capabilities, state_changes
from .models import Command, Device, LearnSession
from .services import command_event, device_event, device_state_apply, learn_event

# The columns a state report writes (device_state_apply's and the marks of the reports).
STATE_COLUMNS = ("is_active", "value", "state", "reported_at", "telemetry_at")


class DeviceRow(SimpleNamespace):
    """A locked device row with every column of the model, under the model's attribute names."""


@functools.cache
def _columns() -> list:
    """(attribute, column, field) of every Device column: read once per process."""
    return [(f.attname, f.column, f) for f in Device._meta.concrete_fields]


@functools.cache
def _state_fields() -> list:
    by_name = {f.attname: f for f in Device._meta.concrete_fields}
    return [by_name[name] for name in STATE_COLUMNS]


def _db_value(field, value):
    if value is not None and hasattr(field, "from_db_value"):
        return field.from_db_value(value, None, connection)
    return value


def _sql_array(field, values):
    """A column's values as psycopg will take them in an unnest() array."""
    if field.get_internal_type() == "JSONField":
        return [json.dumps(v) for v in values], "text[]", "::jsonb"
    if field.get_internal_type() == "DecimalField":
        # psycopg refuses a list mixing the row's Decimals with a report's floats.
        return [None if v is None else Decimal(str(v)) for v in values], "numeric[]", ""
    return list(values), f"{field.db_type(connection)}[]", ""


class DeviceWork:
    """The device rows and sessions one batch touches, and what it changes in them."""

    def __init__(self):
        self.devices: dict = {}
        self.sessions: dict = {}
        self.dirty: set = set()
        self.dirty_signals: set = set()
        self.learned_sessions: set = set()
        self.confirmations: dict = {}
        # (device id, ts) of readings already stored or taken in this batch, and the points
        # older than their device's newest: a hub's buffer after a reconnection.
        self.reading_keys: set = set()
        self.late_points: list = []
        self.changes: list[state_changes.StateChange] = []
        self.readings: list[state_changes.Reading] = []

    def load(self, cursor, reports: list[Report]) -> None:
        """Lock the devices and sessions of `reports` (after the hubs: see hubs.ingest)."""
        device_ids = sorted({r.device_id for r in reports if r.device_id})
        session_ids = sorted({r.body["sessionId"] for r in reports if r.kind == "learned"})
        if device_ids:
            columns = _columns()
            cursor.execute(
                f"SELECT {', '.join(c for _, c, _ in columns)} FROM {Device._meta.db_table}"
                " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [device_ids])
            for values in cursor.fetchall():
                row = DeviceRow(**{a: _db_value(f, v) for (a, _, f), v in zip(columns, values)})
                row.pk = row.id
                self.devices[row.pk] = row
        if session_ids:
            cursor.execute(
                f"SELECT id, device_id, hub_id, action, status, expires_at FROM {LearnSession._meta.db_table}"
                " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [session_ids])
            self.sessions = {row[0]: SimpleNamespace(pk=row[0], device_id=row[1], hub_id=row[2], action=row[3],
                                                     status=row[4], expires_at=row[5]) for row in cursor.fetchall()}
        late = {(str(r.device_id), r.ts) for r in reports if r.kind == "telemetry" and r.device_id in self.devices
                and self.devices[r.device_id].telemetry_at is not None
                and r.ts <= self.devices[r.device_id].telemetry_at}
        if late:
            # One lookup for the whole batch: which late readings the store already holds.
            self.reading_keys = history_points.stored(measurement=history_points.TELEMETRY, keys=late)

    def device_of(self, report: Report, hub) -> DeviceRow:
        device = self.devices.get(report.device_id)
        if device is None:
            raise Rejected("unknown_device", str(report.device_id))
        if device.hub_id != hub.pk:
            raise Rejected("device_not_on_hub", f"device {device.pk} is not on hub {hub.pk}")
        return device

    def flush(self, cursor, *, now, events: list) -> None:
        """Write what changed: one statement per table for the whole batch."""
        if self.dirty:
            rows = [self.devices[pk] for pk in self.dirty]
            arrays, sets, params = [], [], [now, [r.pk for r in rows]]
            for field in _state_fields():
                values, array_type, cast = _sql_array(field, [getattr(r, field.attname) for r in rows])
                arrays.append(f"%s::{array_type}")
                sets.append(f"{field.column} = v.{field.attname}{cast}")
                params.append(values)
            cursor.execute(
                f"UPDATE {Device._meta.db_table} AS d SET {', '.join(sets)}, updated_at = %s"
                f" FROM unnest(%s::uuid[], {', '.join(arrays)}) AS v(id, {', '.join(STATE_COLUMNS)})"
                " WHERE d.id = v.id", params)
        for pk in self.dirty_signals:
            cursor.execute(f"UPDATE {Device._meta.db_table} SET signal_mappings = %s::jsonb, updated_at = %s"
                           " WHERE id = %s", [json.dumps(self.devices[pk].signal_mappings), now, pk])
        if self.learned_sessions:
            cursor.execute(
                f"UPDATE {LearnSession._meta.db_table} SET status = %s, finished_at = %s, updated_at = %s"
                " WHERE id = ANY(%s)", [LearnSession.Status.LEARNED, now, now, list(self.learned_sessions)])
        origins = self._confirm(cursor, now=now, events=events) if self.confirmations else {}
        history_points.ingest_late_points(points=self.late_points)
        if origins:
            self.changes = [dataclasses.replace(c, origin=origins.get(str(c.command_id), "")) if c.command_id else c
                            for c in self.changes]
        state_changes.notify(self.changes)
        state_changes.notify_readings(self.readings)

    def _confirm(self, cursor, *, now, events: list) -> dict[str, str]:
        """Confirm the commands the reports answer; the origins of those that have one."""
        ids = list(self.confirmations)
        cursor.execute(
            f"UPDATE {Command._meta.db_table} AS c SET status = 'confirmed',"
            " finished_at = CASE WHEN c.status = 'confirmed' THEN c.finished_at ELSE %s END,"
            " updated_at = %s, reported_state = v.state::jsonb"
            " FROM unnest(%s::uuid[], %s::uuid[], %s::text[], %s::bool[]) AS v(id, device_id, state, redelivered)"
            # The device must match: a hub cannot confirm another device's command.
            " WHERE c.id = v.id AND c.device_id = v.device_id"
            " AND (c.status IN ('pending', 'sent') OR (c.status = 'confirmed' AND v.redelivered))"
            " RETURNING c.id, c.home_id, c.device_id, c.desired_state, c.sent_at, c.finished_at, c.origin",
            [now, now, ids, [self.confirmations[i][0] for i in ids],
             [json.dumps(self.confirmations[i][1]) for i in ids], [self.confirmations[i][2] for i in ids]])
        origins = {}
        for pk, home_id, device_id, desired, sent_at, finished_at, origin in cursor.fetchall():
            command = SimpleNamespace(pk=pk, device_id=device_id, status=Command.Status.CONFIRMED, sent_at=sent_at,
                                      finished_at=finished_at,
                                      desired_state=json.loads(desired) if isinstance(desired, str) else desired)
            events.append((home_id, "command:status", command_event(command)))
            if origin:
                origins[str(pk)] = origin
        return origins


# --- handlers: one per device report kind (hubs.ingest.registry) ---


def _reporting_device(batch, report: Report) -> tuple:
    """The hub and device a device report comes from (the device must be on that hub); the
    report is the hub's sign of life."""
    hub = batch.hub_of(report)
    device = batch.device_work.device_of(report, hub)
    batch.hub_seen(hub)
    return hub, batch.device_work, device


@report_kind("state", scope=DEVICE, check=messages.check_state)
def ingest_state(batch, report: Report) -> bool:
    _hub, work, device = _reporting_device(batch, report)
    state = report.body["state"]
    problem = capabilities.check_reported_state(device.type, state)
    if problem:
        raise Rejected("out_of_range", problem)
    command_id = report.body.get("commandId")
    if command_id is not None:
        work.confirmations[command_id] = (device.pk, state, report.redelivered)
    if device.reported_at is not None and report.ts <= device.reported_at:
        if report.redelivered:
            batch.events.append((device.home_id, "device:update", _state_event(device, command_id, report)))
        return False
    previous = state_changes.snapshot(device) if device.reported_at is not None else None
    history_state = device_state_apply(device, state)
    device.reported_at = report.ts
    work.changes.append(state_changes.StateChange(home_id=device.home_id, device_id=device.pk,
                                                  state=state_changes.snapshot(device), previous=previous,
                                                  ts=report.ts, command_id=command_id))
    work.dirty.add(device.pk)
    batch.points.append(history_points.state_point(home_id=device.home_id, device_id=device.pk,
                                                   room_id=device.room_id, ts=report.ts, state=history_state))
    batch.events.append((device.home_id, "device:update", _state_event(device, command_id, report)))
    return True


def _state_event(device: DeviceRow, command_id, report: Report) -> dict:
    """device:update for the state this report carried (a repeat may be older than the row)."""
    data = device_event(device)
    if report.ts != device.reported_at:
        data["state"] = {**data["state"], **report.body["state"]}
    data["reportedAt"] = report.ts.isoformat()
    if command_id is not None:
        data["commandId"] = str(command_id)
    return data


@report_kind("telemetry", scope=DEVICE, check=messages.check_telemetry)
def ingest_telemetry(batch, report: Report) -> bool:
    _hub, work, device = _reporting_device(batch, report)
    fields, problem = capabilities.clean_telemetry(report.body)
    if problem:
        raise Rejected("out_of_range", problem)
    point = history_points.telemetry_point(home_id=device.home_id, device_id=device.pk, room_id=device.room_id,
                                           ts=report.ts, fields=fields)
    key = (point.device_id, report.ts)
    if device.telemetry_at is not None and report.ts <= device.telemetry_at:
        # Buffered while the hub was offline (or redelivered): kept once, counted in energy.
        if key in work.reading_keys:
            return False
        if batch.now - report.ts > datetime.timedelta(days=settings.ENERGY_RAW_RETENTION_DAYS):
            raise Rejected("too_old", f"ts {report.ts.isoformat()} is older than the raw retention")
        work.reading_keys.add(key)
        work.late_points.append(point)
        return True
    device.telemetry_at = report.ts
    work.dirty.add(device.pk)
    batch.points.append(point)
    work.readings.append(state_changes.Reading(home_id=device.home_id, device_id=device.pk, fields=fields,
                                               ts=report.ts))
    work.reading_keys.add(key)  # a repeat later in this batch is a duplicate
    return True


@report_kind("learned", scope=DEVICE, check=messages.check_learned)
def ingest_learned(batch, report: Report) -> bool:
    _hub, work, device = _reporting_device(batch, report)
    session_id = report.body["sessionId"]
    session = work.sessions.get(session_id)
    if session is None or session.device_id != device.pk:
        raise Rejected("unknown_session", str(session_id))
    if session.status == LearnSession.Status.LEARNED:
        return False
    if session.status != LearnSession.Status.OPEN:
        raise Rejected("session_closed", f"session {session_id} is {session.status}")
    session.status = LearnSession.Status.LEARNED
    device.signal_mappings = {**(device.signal_mappings or {}), session.action: report.body["signal"]}
    work.dirty_signals.add(device.pk)
    work.learned_sessions.add(session_id)
    batch.events.append((device.home_id, "learn:status", learn_event(session)))
    return True
