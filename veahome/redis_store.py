"""The project's Redis, outside Django's cache API and the channel layer's own: every client
and every key name comes from here.

Two namespaces, by how much their data matters:

- **cache** (`CACHES["default"]`, keys under its `KEY_PREFIX`): state that may be lost
  with the cache, such as live power and login failures.
- **feed** (`REDIS_URL`, the channel layer's server, keys under its `prefix`): the live
  feed's event ids, history, presence and counters, and listener health.

One connection pool per URL and process (thread-safe) for synchronous code; one per event
loop for asyncio code, because redis.asyncio connections belong to the loop that made them.
"""
import asyncio
import functools

import redis
import redis.asyncio as aioredis
from django.conf import settings


@functools.lru_cache(maxsize=8)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def cache() -> redis.Redis:
    return _client(settings.CACHES["default"]["LOCATION"])


def cache_key(*parts: str) -> str:
    """A key in the cache's namespace: cache_key("energy", "power", home_id)."""
    return ":".join([settings.CACHES["default"].get("KEY_PREFIX", "veahome"), *parts])


def feed() -> redis.Redis:
    return _client(settings.REDIS_URL)


def feed_prefix() -> str:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]


def feed_key(*parts: str) -> str:
    """A key in the feed's namespace: feed_key("rt", "seq", home_id)."""
    return ":".join([feed_prefix(), *parts])


_loop_clients: dict = {}


def feed_async() -> aioredis.Redis:
    """The feed's client for the running event loop."""
    loop = asyncio.get_running_loop()
    client = _loop_clients.get(loop)
    if client is None:
        # Blocking pool: a thousand sockets closing at once wait their turn for a connection
        # instead of failing with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=50, timeout=20)
        client = _loop_clients[loop] = aioredis.Redis(connection_pool=pool)
    return client
