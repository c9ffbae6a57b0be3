"""`GET /healthz`: what an operator's probe and dashboard need, without logging in.

Status 200 when PostgreSQL and Redis answer, 503 naming the one that does not. The body also
carries the counters the processes keep in Redis: each MQTT listener's (received, applied,
duplicates, rejected by reason, queue length, when it last reported) and the websocket
feed's (slow clients closed, resyncs, gaps filled). Counts only: no ids, no payloads.
"""
import json
import logging
import time

import psycopg
import redis
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from veahome import redis_store

logger = logging.getLogger(__name__)


_redis = redis_store.feed


def listener_key(client_id: str) -> str:
    return redis_store.feed_key("health", "listener", client_id)


def report_listener(client_id: str, stats: dict, *, queued: int, ttl: int) -> None:
    """Called by each listener every STATS_EVERY_SECONDS; an entry vanishes when its listener stops reporting."""
    body = {"clientId": client_id, "reportedAt": time.time(), "queued": queued, "counters": dict(sorted(stats.items()))}
    _redis().set(listener_key(client_id), json.dumps(body), ex=ttl)


def _listeners(client: redis.Redis) -> list[dict]:
    keys = sorted(client.scan_iter(match=listener_key("*"), count=100))
    values = client.mget(keys) if keys else []
    return [json.loads(v) for v in values if v]


def _database_ping() -> None:
    """A connection of its own with a short timeout: the pool would wait its full timeout
    for a server that is down, and a probe must answer quickly."""
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"] or None, port=db["PORT"] or None, user=db["USER"] or None,
                         password=db["PASSWORD"] or None, dbname=db["NAME"], connect_timeout=3) as conn:
        conn.execute("SELECT 1")


@require_GET
def healthz(request):
    checks, body = {}, {}
    try:
        _database_ping()
        checks["database"] = "ok"
    except Exception as exc:
        logger.error("health: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    try:
        client = _redis()
        client.ping()
        checks["redis"] = "ok"
        from realtime.events import stats_key

        body["realtime"] = {k.decode(): int(v) for k, v in client.hgetall(stats_key()).items()}
        body["mqttListeners"] = _listeners(client)
    except Exception as exc:
        logger.error("health: redis unreachable: %s", exc)
        checks["redis"] = "unreachable"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", "checks": checks, **body},
                        status=200 if healthy else 503)
