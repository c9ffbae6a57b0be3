"""Async Redis reads and writes for sockets: event history (resume) and presence."""
import json
import time
from dataclasses import dataclass, field

from django.conf import settings

from veahome import redis_store

from .events import PUBLISH_SCRIPT, log_key, presence_keys, script_args, seq_key, stats_key

def async_redis():
    """The feed's client for this event loop, with the live feed's scripts registered on it."""
    client = redis_store.feed_async()
    if not hasattr(client, "publish_script"):
        client.publish_script = client.register_script(PUBLISH_SCRIPT)
        client.presence_script = client.register_script(PRESENCE_SCRIPT)
    return client


async def emit(home_id: str, event: str, data: dict) -> int:
    """`publish()` for code already inside the event loop and outside any transaction."""
    keys, argv = script_args(home_id, event, json.dumps(data, separators=(",", ":")))
    return int(await async_redis().publish_script(keys=keys, args=argv))


async def count(stat: str, amount: int = 1) -> None:
    await async_redis().hincrby(stats_key(), stat, amount)


@dataclass
class Replay:
    """What a client that last saw `after` has missed: the envelopes, or a reason to resync."""

    head: int
    envelopes: list[tuple[int, str]] = field(default_factory=list)
    resync: str | None = None


async def missed_since(home_id: str, after: int, until: int | None = None) -> Replay:
    """Events with ids in (after, until] (until defaults to the newest) from the home's stream.

    Resync when the client names an id this home never issued, or when the history no
    longer holds every missed event (trimmed by length or older than the age bound).
    """
    client = async_redis()
    head = int(await client.get(seq_key(home_id)) or 0)
    until = head if until is None else min(until, head)
    if after > head:
        return Replay(head=head, resync="unknown_event_id")
    if after >= until:
        return Replay(head=head)
    entries = await client.xrange(log_key(home_id), min=f"{after + 1}-0", max=f"{until}-0")
    oldest_allowed = (time.time() - settings.REALTIME_HISTORY_SECONDS) * 1000
    ids = [int(entry_id.split(b"-")[0]) for entry_id, _ in entries]
    if ids != list(range(after + 1, until + 1)) or int(entries[0][1][b"t"]) < oldest_allowed:
        return Replay(head=head, resync="history_expired")
    return Replay(head=head, envelopes=[(i, fields[b"e"].decode()) for i, (_, fields) in zip(ids, entries)])


# Connections live in a sorted set scored by last heartbeat ("userId|channel"); a hash counts
# each user's connections so "online" changes only when the first opens or the last closes.
# Connections whose process died stop heartbeating and are swept here by any later caller.
PRESENCE_SCRIPT = """
local conns, users = KEYS[1], KEYS[2]
local op, member, user, now, stale_before = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local changed = {}
if op == 'join' then
  if redis.call('ZADD', conns, now, member) == 1 then
    if redis.call('HINCRBY', users, user, 1) == 1 then table.insert(changed, '+' .. user) end
  end
elseif op == 'leave' then
  if redis.call('ZREM', conns, member) == 1 then
    if redis.call('HINCRBY', users, user, -1) <= 0 then
      redis.call('HDEL', users, user)
      table.insert(changed, '-' .. user)
    end
  end
elseif op == 'beat' then
  redis.call('ZADD', conns, 'XX', now, member)
end
for _, stale in ipairs(redis.call('ZRANGEBYSCORE', conns, '-inf', stale_before)) do
  redis.call('ZREM', conns, stale)
  local owner = string.match(stale, '^([^|]+)')
  if redis.call('HINCRBY', users, owner, -1) <= 0 then
    redis.call('HDEL', users, owner)
    table.insert(changed, '-' .. owner)
  end
end
return {changed, redis.call('HKEYS', users)}
"""


@dataclass
class PresenceChange:
    online: list[str]
    joined: list[str]
    left: list[str]


async def presence(op: str, home_id: str, user_id: str = "", channel: str = "") -> PresenceChange:
    """Record a join, leave or heartbeat of one socket and sweep stale ones; report who changed."""
    now = time.time()
    stale_before = now - settings.REALTIME_HEARTBEAT_TIMEOUT * 2
    changed, online = await async_redis().presence_script(
        keys=presence_keys(home_id), args=[op, f"{user_id}|{channel}", user_id, now, stale_before]
    )
    changed = [c.decode() for c in changed]
    return PresenceChange(
        online=sorted(u.decode() for u in online),
        joined=[c[1:] for c in changed if c[0] == "+"],
        left=[c[1:] for c in changed if c[0] == "-"],
    )
