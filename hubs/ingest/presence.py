"""Hubs that stopped talking: the heartbeat sweep that marks them offline."""
import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from energy import points as history_points
from hubs import status_changes
from hubs.models import Hub
from hubs.services import hub_event
from realtime.events import publish_many


@transaction.atomic
def hubs_offline_sweep(*, now: datetime.datetime | None = None) -> int:
    """Mark online hubs silent for longer than HUB_HEARTBEAT_TIMEOUT_SECONDS offline."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.HUB_HEARTBEAT_TIMEOUT_SECONDS)
    # skip_locked: a hub whose row the listener holds is reporting right now.
    silent = list(Hub.objects.select_for_update(skip_locked=True)
                  .filter(status=Hub.Status.ONLINE, last_seen_at__lt=cutoff, home__isnull=False)[:1000])
    for hub in silent:
        hub.status, hub.updated_at = Hub.Status.OFFLINE, now
    Hub.objects.bulk_update(silent, ["status", "updated_at"])
    status_changes.notify([status_changes.HubStatusChange(home_id=h.home_id, hub_id=h.pk, status=Hub.Status.OFFLINE,
                                                          previous=Hub.Status.ONLINE, ts=now) for h in silent])
    history_points.ingest_points(points=[
        history_points.hub_status_point(home_id=h.home_id, hub_id=h.pk, ts=now, online=False) for h in silent])
    publish_many([(h.home_id, "hub:status", hub_event(h)) for h in silent])
    return len(silent)
