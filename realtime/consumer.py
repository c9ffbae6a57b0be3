"""The home feed socket: authenticate, replay what a client missed, then stream live events."""
import asyncio
import json
import logging
from datetime import datetime, timezone
from enum import IntEnum

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from veahome import parsers

from . import store
from .auth import SUBPROTOCOL, authenticate, is_member, parse_home_id, query, token_from_scope
from .events import home_group

logger = logging.getLogger(__name__)


class Close(IntEnum):
    """Close codes of the feed (docs/websocket.md lists what a client should do for each)."""

    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    MEMBERSHIP_REVOKED = 4403
    NOT_FOUND = 4404
    HEARTBEAT_TIMEOUT = 4408
    HOME_DELETED = 4410
    TOO_SLOW = 4429


def control(event: str, **data) -> str:
    """Session messages (no id: they are not part of the home's event history)."""
    return json.dumps({"event": event, "data": data, "ts": datetime.now(timezone.utc).isoformat()})


def parse_event_id(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        event_id = int(value)
    except (TypeError, ValueError):
        raise ValueError("lastEventId must be an integer") from None
    if event_id < 0:
        raise ValueError("lastEventId must not be negative")
    return event_id


class HomeFeedConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = None
        self.home_id = None
        self.last_id = 0
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        # Bounded on purpose: a client that cannot keep up is disconnected, never fed a gap.
        self.outbox: asyncio.Queue = asyncio.Queue(maxsize=settings.REALTIME_CLIENT_BUFFER)
        self.last_heard = asyncio.get_running_loop().time()
        offered = self.scope.get("subprotocols", [])
        await self.accept(SUBPROTOCOL if SUBPROTOCOL in offered else None)
        params = query(self.scope)
        home = self.scope["url_route"]["kwargs"].get("home_id") or params.get("homeId")
        token = token_from_scope(self.scope)
        if token is not None:
            await self.authenticate(token, home, params.get("lastEventId"))
        else:
            self.tasks.append(asyncio.create_task(self.auth_deadline()))

    async def shut(self, code: Close, reason: str) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=int(code), reason=reason)

    async def auth_deadline(self):
        await asyncio.sleep(settings.REALTIME_AUTH_TIMEOUT)
        if self.user is None:
            await self.shut(Close.UNAUTHORIZED, "auth_timeout")

    async def authenticate(self, token: str, home, last_event_id) -> None:
        identity = await database_sync_to_async(authenticate)(token)
        if identity is None:
            return await self.shut(Close.UNAUTHORIZED, "invalid_token")
        if self.user is not None:
            # An in-band token refresh: same person, new expiry.
            if identity.user.pk != self.user.pk:
                return await self.shut(Close.UNAUTHORIZED, "token_user_mismatch")
            self.expiry.cancel()
            self.expiry = self.start(self.expire_at(identity.expires_at))
            return await self.send(text_data=control("session:refreshed", expiresAt=identity.expires_at.isoformat()))
        if home is None:
            return await self.shut(Close.BAD_REQUEST, "home_id_required")
        try:
            resume_from = parse_event_id(last_event_id)
        except ValueError:
            return await self.shut(Close.BAD_REQUEST, "bad_last_event_id")
        home_id = parse_home_id(home)
        if home_id is None or not await database_sync_to_async(is_member)(identity.user, home_id):
            return await self.shut(Close.NOT_FOUND, "home_not_found")
        self.user, self.home_id = identity.user, home_id
        await self.subscribe(identity.expires_at, resume_from)

    def start(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self.tasks.append(task)
        return task

    async def subscribe(self, expires_at: datetime, resume_from: int | None) -> None:
        # Join the live group before reading history: an event published in between is then
        # both in history and in the outbox, and the id check drops the second copy.
        await self.channel_layer.group_add(home_group(self.home_id), self.channel_name)
        self.expiry = self.start(self.expire_at(expires_at))
        self.start(self.heartbeat())
        change = await store.presence("join", self.home_id, str(self.user.pk), self.channel_name)
        await self.announce(change)
        replayed = 0
        if resume_from is None:
            replay = await store.missed_since(self.home_id, 0, until=0)
        else:
            replay = await store.missed_since(self.home_id, resume_from)
        if replay.resync:
            await store.count("resyncs")
            await self.send(text_data=control("session:resync", reason=replay.resync, lastEventId=replay.head))
        for event_id, text in replay.envelopes:
            await self.send(text_data=text)
            replayed += 1
        self.last_id = replay.head
        self.start(self.writer())
        await self.send(text_data=control(
            "session:ready", homeId=self.home_id, userId=str(self.user.pk), lastEventId=self.last_id,
            replayed=replayed, online=change.online,
        ))

    async def announce(self, change: store.PresenceChange) -> None:
        for user_id, status in [(u, "online") for u in change.joined] + [(u, "offline") for u in change.left]:
            await store.emit(self.home_id, "presence:update", {"userId": user_id, "status": status, "online": change.online})

    async def expire_at(self, expires_at: datetime):
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(timezone.utc)).total_seconds()))
        await self.shut(Close.UNAUTHORIZED, "token_expired")

    async def heartbeat(self):
        timeout = settings.REALTIME_HEARTBEAT_TIMEOUT
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(timeout / 4)
            if loop.time() - self.last_heard > timeout:
                return await self.shut(Close.HEARTBEAT_TIMEOUT, "heartbeat_timeout")
            await self.announce(await store.presence("beat", self.home_id, str(self.user.pk), self.channel_name))

    async def receive(self, text_data=None, bytes_data=None):
        self.last_heard = asyncio.get_running_loop().time()
        try:
            message = parsers.loads(text_data or "")
            action = message.get("action")
        except (ValueError, AttributeError):
            message, action = {}, None
        if action == "auth":
            token = message.get("token")
            if not isinstance(token, str) or not token:
                return await self.shut(Close.UNAUTHORIZED, "invalid_token")
            home = self.scope["url_route"]["kwargs"].get("home_id") or message.get("homeId") or query(self.scope).get("homeId")
            last_event_id = message.get("lastEventId", query(self.scope).get("lastEventId"))
            return await self.authenticate(token, home, last_event_id)
        if self.user is None:
            return await self.shut(Close.UNAUTHORIZED, "auth_required")
        if action == "ping":
            return await self.send(text_data=control("pong", lastEventId=self.last_id))
        await self.send(text_data=control("error", code="unknown_action", message="Expected action auth or ping."))

    async def dispatch(self, message):
        # Live events touch no database: skip the per-message thread hop channels makes to
        # close stale DB connections, which cost more than the rest of a delivery.
        if message["type"] == "home.event":
            return await self.home_event(message)
        return await super().dispatch(message)

    async def home_event(self, message):
        """A live event from the channel layer: queue it for the writer, or give up on the client."""
        if self.closing:
            return
        try:
            self.outbox.put_nowait((message["id"], message["text"]))
        except asyncio.QueueFull:
            await store.count("overflows")
            logger.warning(
                "socket of user %s in home %s fell %d events behind; closed so it resumes",
                self.user.pk, self.home_id, self.outbox.qsize(),
            )
            await self.shut(Close.TOO_SLOW, "too_slow")

    async def writer(self):
        while True:
            event_id, text = await self.outbox.get()
            if event_id <= self.last_id:
                continue
            if event_id > self.last_id + 1:
                await self.fill_gap(event_id)
            await self.send(text_data=text)
            self.last_id = event_id
            if '"event":"member:removed"' in text[:60] or '"event":"home:deleted"' in text[:60]:
                await self.after_membership_event(json.loads(text))

    async def fill_gap(self, event_id: int) -> None:
        """A live event arrived ahead of ones never seen: fetch those from history first."""
        replay = await store.missed_since(self.home_id, self.last_id, until=event_id - 1)
        await store.count("gaps")
        if replay.resync:
            await store.count("resyncs")
            await self.send(text_data=control("session:resync", reason=replay.resync, lastEventId=event_id - 1))
        for _, missed in replay.envelopes:
            await self.send(text_data=missed)

    async def after_membership_event(self, envelope: dict) -> None:
        if envelope["event"] == "home:deleted":
            await self.shut(Close.HOME_DELETED, "home_deleted")
        elif envelope["data"].get("userId") == str(self.user.pk):
            await self.shut(Close.MEMBERSHIP_REVOKED, "membership_revoked")

    async def disconnect(self, code):
        self.closing = True
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()
        if self.home_id is not None:
            await self.channel_layer.group_discard(home_group(self.home_id), self.channel_name)
            await self.announce(await store.presence("leave", self.home_id, str(self.user.pk), self.channel_name))
