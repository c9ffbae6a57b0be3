"""The cache's Redis (CACHES["default"]) for code that needs more than Django's cache API:
hashes, pipelines, scripts. One client (connection pool) per URL and process, and the
cache's key prefix, so every such key lives in the same namespace as the cache's own."""
import functools

import redis
from django.conf import settings


@functools.lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def client() -> redis.Redis:
    return _client(settings.CACHES["default"]["LOCATION"])


def key(*parts: str) -> str:
    """A key under the cache's prefix: key("energy", "power", home_id)."""
    return ":".join([settings.CACHES["default"].get("KEY_PREFIX", "veahome"), *parts])
