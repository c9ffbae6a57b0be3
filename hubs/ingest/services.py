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
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from devices.ingest import DeviceWork
from energy import points as history_points
from hubs import status_changes
from hubs.models import Hub
from hubs.services import hub_event
from realtime.events import publish_many
from veahome.logsafe import untrusted

from . import messages, registry
from .messages import Rejected, Report
from .registry import HUB, report_kind

logger = logging.getLogger(__name__)

# How often a chatty hub's last_seen_at is rewritten; the heartbeat timeout is minutes.
SEEN_RESOLUTION_SECONDS = 5


@dataclass
class HubRow:
    pk: uuid.UUID
    home_id: uuid.UUID | None
    status: str
    last_seen_at: object
    wifi_connected: bool


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
        self.dirty_hubs: set = set()
        # Devices' tables are devices' own: their rows, changes and writes (devices.ingest).
        self.device_work = DeviceWork()
        self.points: list = []
        self.events: list[tuple] = []
        self.status_changes: list[status_changes.HubStatusChange] = []
        self._load(reports)

    def _load(self, reports: list[Report]) -> None:
        hub_ids = sorted({r.hub_id for r in reports})
        # Always hubs, then devices, each in id order: concurrent listeners lock in the same
        # order and so never deadlock.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, home_id, status, last_seen_at, wifi_connected FROM hubs_hub"
                " WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [hub_ids])
            self.hubs = {row[0]: HubRow(*row) for row in cursor.fetchall()}
            self.device_work.load(cursor, reports)

    # -- lookups shared by the handlers --

    def hub_of(self, report: Report) -> HubRow:
        hub = self.hubs.get(report.hub_id)
        if hub is None:
            raise Rejected("unknown_hub", str(report.hub_id))
        if hub.home_id is None:
            raise Rejected("hub_not_paired", str(report.hub_id))
        return hub

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
            self.status_changes.append(status_changes.HubStatusChange(
                home_id=hub.home_id, hub_id=hub.pk, status=target, previous=hub.status, ts=self.now))
            hub.status = target
            hub.last_seen_at = hub.last_seen_at or self.now
            self.dirty_hubs.add(hub.pk)
            self.events.append((hub.home_id, "hub:status", hub_event(hub)))
            self.points.append(history_points.hub_status_point(home_id=hub.home_id, hub_id=hub.pk, ts=self.now,
                                                               online=online))

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
            self.device_work.flush(cursor, now=self.now, events=self.events)
        status_changes.notify(self.status_changes)
        history_points.ingest_points(points=self.points)
        publish_many(self.events)


# --- handlers: the hub's own report kinds (devices.ingest registers the device kinds) ---


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
