"""What a block of code published to homes' live feeds, and what it wrote to the database.

`capture_events` reads the events back from each home's feed history in Redis, where the one
publish script puts every event (from `realtime.publish` and the listener's batches alike), so
a test sees exactly what a client of the feed receives: only what was committed, in order.
"""
import json
import re
from contextlib import contextmanager
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from realtime.events import last_event_id, log_key


@lru_cache(maxsize=1)
def _redis() -> redis.Redis:
    # A client of the test's own: what is read back does not depend on the publisher's pool.
    return redis.Redis.from_url(settings.REDIS_URL)


def events_since(home_id, after: int) -> list[dict]:
    """The home's envelopes ({id, event, data, ts, homeId}) with an id above `after`."""
    entries = _redis().xrange(log_key(home_id), min=f"{after + 1}-0")
    return [json.loads(fields[b"e"]) for _, fields in entries]


@contextmanager
def capture_events(*home_ids):
    """Yield a list that, after the block, holds the (event, data) pairs the homes' feeds got
    during it: each home's in publishing order, the homes in the order given.

    Inside a test's own transaction (the `db` fixture) nothing commits, so the callbacks the
    block registered with `on_commit` run when it ends, as a commit would run them; in
    `transaction=True` tests they have already run at each real commit. Not for use inside
    another on-commit capture, whose end would run the same callbacks again.
    """
    home_ids = [str(h) for h in home_ids]
    before = {home_id: last_event_id(home_id) for home_id in home_ids}
    published: list[tuple[str, dict]] = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield published
    for home_id in home_ids:
        for envelope in events_since(home_id, before[home_id]):
            assert envelope["homeId"] == home_id
            published.append((envelope["event"], envelope["data"]))


WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@contextmanager
def capture_writes():
    """Yield a list that, after the block, holds the INSERT/UPDATE/DELETE statements it ran."""
    statements: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        yield statements
    statements.extend(q["sql"] for q in queries.captured_queries if WRITE.match(q["sql"]))


def columns_set(statement: str) -> set[str]:
    """The columns an `UPDATE ... SET a = ..., b = ... WHERE` statement writes."""
    assignments = re.search(r"\bSET\b(.*?)\bWHERE\b", statement, re.IGNORECASE | re.DOTALL).group(1)
    return set(re.findall(r'"(\w+)"\s*=', assignments))
