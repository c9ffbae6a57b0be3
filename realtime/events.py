"""`publish()`: the only way any process reaches a home's websocket clients.

One Redis script, for one event or a batch, does three things atomically for each event: take
the home's next event id (INCR), append the envelope to the home's bounded history stream
(XADD, for resume), and PUBLISH it on the channel-layer group of the home. Because Redis runs the script as one
step, the order of ids, of the history and of live delivery is the same for every process.
"""
import functools
import json
import logging
import time

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from veahome import redis_store

logger = logging.getLogger(__name__)

# For each event in turn: KEYS seq, log, group channel; ARGV is max history length, history
# age in seconds, epoch ms, then one envelope per event (a JSON object without its id). The live
# message is msgpack-packed here exactly as channels-redis's RedisPubSubChannelLayer serializes
# {"type", "id", "text"} (no encryption, no random prefix: see CHANNEL_LAYERS), so consumers get
# it as an ordinary layer message. Returns the last event's id. One event (`publish`) or many
# (`publish_many`, PUBLISH_CHUNK per call: Redis runs a script as one step) go the same way.
PUBLISH_SCRIPT = """
local id = 0
for i = 4, #ARGV do
  local k = (i - 4) * 3
  id = redis.call('INCR', KEYS[k + 1])
  local text = '{"id":' .. id .. ',' .. string.sub(ARGV[i], 2)
  redis.call('XADD', KEYS[k + 2], 'MAXLEN', '~', ARGV[1], id .. '-0', 't', ARGV[3], 'e', text)
  redis.call('EXPIRE', KEYS[k + 2], ARGV[2])
  redis.call('PUBLISH', KEYS[k + 3], cmsgpack.pack({type = 'home.event', id = id, text = text}))
end
return id
"""
PUBLISH_CHUNK = 200


def home_group(home_id) -> str:
    return f"home.{home_id}"


def seq_key(home_id) -> str:
    return redis_store.feed_key("rt", "seq", str(home_id))


def log_key(home_id) -> str:
    return redis_store.feed_key("rt", "log", str(home_id))


def presence_keys(home_id) -> list[str]:
    """The home's open sockets (sorted set by last heartbeat) and its online users (counts)."""
    base = redis_store.feed_key("rt", "presence", str(home_id))
    return [f"{base}:conns", f"{base}:users"]


def stats_key() -> str:
    return redis_store.feed_key("rt", "stats")


def group_channel(home_id) -> str:
    """The Redis pub/sub channel RedisPubSubChannelLayer uses for the home's group."""
    return f"{redis_store.feed_prefix()}__group__{home_group(home_id)}"


@functools.lru_cache(maxsize=1)
def _publish_script():
    # EVALSHA: Redis runs the cached script instead of hashing its text on every event.
    return redis_store.feed().register_script(PUBLISH_SCRIPT)


def envelope_tail(home_id: str, event: str, payload: str) -> str:
    """The envelope as a JSON object without its id; the script puts the id in front."""
    ts = json.dumps(timezone.now().isoformat())
    return f'{{"event":{json.dumps(event)},"data":{payload},"ts":{ts},"homeId":{json.dumps(home_id)}}}'


def script_args(home_id: str, event: str, payload: str) -> tuple[list, list]:
    return _batch_args([(home_id, event, payload)])


def _batch_args(prepared) -> tuple[list, list]:
    """PUBLISH_SCRIPT's keys and arguments for (home id, event, payload) triples."""
    keys, argv = [], [settings.REALTIME_HISTORY_MAXLEN, settings.REALTIME_HISTORY_SECONDS, int(time.time() * 1000)]
    for home_id, event, payload in prepared:
        keys += (seq_key(home_id), log_key(home_id), group_channel(home_id))
        argv.append(envelope_tail(home_id, event, payload))
    return keys, argv


def emit_now(home_id, event: str, payload: str) -> int:
    """Send an already-serialised event at once; returns its id. Prefer `publish()`."""
    keys, argv = script_args(str(home_id), event, payload)
    return int(_publish_script()(keys=keys, args=argv, client=redis_store.feed()))


def publish(home_id, event: str, data: dict) -> None:
    """Send `event` to every client of the home once the current transaction commits.

    Raises TypeError at once if `data` is not JSON-serialisable, so the caller's bug
    surfaces where it was made and not in a socket later. Outside a transaction it sends
    immediately (that is what `on_commit` does in autocommit mode).
    """
    if not isinstance(event, str) or not event:
        raise TypeError("event must be a non-empty string")
    payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    home_id = str(home_id)

    def send():
        try:
            emit_now(home_id, event, payload)
        except redis.RedisError:
            # The change is committed and every snapshot shows it; only the live event is lost.
            logger.exception("publish %s to home %s failed", event, home_id)

    transaction.on_commit(send)


def last_event_id(home_id) -> int:
    """The id of the newest event of the home (0 before the first)."""
    return int(redis_store.feed().get(seq_key(home_id)) or 0)


def count(stat: str, amount: int = 1) -> None:
    """Add to a process-wide counter that `manage.py realtime_stats` shows."""
    try:
        redis_store.feed().hincrby(stats_key(), stat, amount)
    except redis.RedisError:
        logger.exception("could not count %s", stat)


def publish_many(events) -> None:
    """`publish` for a batch of (home_id, event, data): one on-commit hook and one Redis round
    trip for all of them (the MQTT ingest path, a schedule tick's batch), a script call per
    PUBLISH_CHUNK events, in order."""
    prepared = [(str(h), e, json.dumps(d, allow_nan=False, separators=(",", ":"))) for h, e, d in events]
    if not prepared:
        return

    def send():
        try:
            script = _publish_script()
            pipe = redis_store.feed().pipeline(transaction=False)
            for start in range(0, len(prepared), PUBLISH_CHUNK):
                keys, argv = _batch_args(prepared[start:start + PUBLISH_CHUNK])
                script(keys=keys, args=argv, client=pipe)
            pipe.execute()
        except redis.RedisError:
            logger.exception("publish_many of %d events failed", len(prepared))

    transaction.on_commit(send)
