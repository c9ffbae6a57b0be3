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
