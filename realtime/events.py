"""`publish()`: the only way any process reaches a home's websocket clients."""
import json
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def home_group(home_id) -> str:
    return f"home.{home_id}"


def publish(home_id, event: str, data: dict) -> None:
    """Send `event` to every client of the home once the current transaction commits.

    Raises TypeError at once if `data` is not JSON-serialisable, so the caller's bug
    surfaces where it was made and not in a socket later.
    """
    payload = json.dumps(data)
    home_id = str(home_id)

    def send():
        envelope = {
            "event": event,
            "data": json.loads(payload),
            "id": str(uuid.uuid4()),
            "ts": timezone.now().isoformat(),
            "homeId": home_id,
        }
        try:
            async_to_sync(get_channel_layer().group_send)(
                home_group(home_id), {"type": "home.event", "envelope": envelope}
            )
        except Exception:
            logger.exception("publish %s to home %s failed", event, home_id)

    transaction.on_commit(send)


# Concurrent group_sends per batch: enough to overlap Redis round trips, few enough
# not to open a connection per event.
_PUBLISH_MANY_CONCURRENCY = 32
_loop = None
_loop_lock = None


def _sender_loop():
    """One event loop per process for publish_many, so the channel layer's connection pool
    (bound to a loop) lives across batches instead of being rebuilt for each."""
    import asyncio
    import threading

    global _loop, _loop_lock
    if _loop_lock is None:
        _loop_lock = threading.Lock()
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="publish-many", daemon=True).start()
        return _loop


def publish_many(events, *, timeout: float = 10.0) -> None:
    """`publish` for a batch of (home_id, event, data): one on-commit hook for all of them,
    sent concurrently instead of one blocking round trip per event (the MQTT ingest path)."""
    import asyncio

    prepared = [(str(home_id), event, json.dumps(data)) for home_id, event, data in events]
    if not prepared:
        return

    async def send_all():
        layer = get_channel_layer()
        gate = asyncio.Semaphore(_PUBLISH_MANY_CONCURRENCY)
        now = timezone.now().isoformat()

        async def send_one(home_id, event, payload):
            envelope = {"event": event, "data": json.loads(payload), "id": str(uuid.uuid4()),
                        "ts": now, "homeId": home_id}
            async with gate:
                await layer.group_send(home_group(home_id), {"type": "home.event", "envelope": envelope})

        results = await asyncio.gather(*(send_one(*item) for item in prepared), return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            logger.error("publish_many: %d of %d events not sent (%r)", len(failed), len(prepared), failed[0])

    def send():
        try:
            asyncio.run_coroutine_threadsafe(send_all(), _sender_loop()).result(timeout)
        except Exception:
            logger.exception("publish_many of %d events failed", len(prepared))

    transaction.on_commit(send)
