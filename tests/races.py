"""The MQTT listener writing on its own database connection while a request is half-way.

The listener's batch is the real `hubs.ingest.services.ingest` entry, run in a thread (so on a
connection of its own, as in the `mqtt_listen` process) and committed before the request goes
on. Tests using these helpers must commit their rows: `django_db(transaction=True)`.
"""
import datetime
import re
import threading
import time
from contextlib import contextmanager

from django.db import connection, transaction
from django.utils import timezone

from hubs.ingest.messages import Report
from hubs.ingest.services import ingest


def state_report(device, state: dict, ts: datetime.datetime | None = None) -> Report:
    body = {"deviceId": str(device.pk), "hubId": str(device.hub_id), "state": state}
    return Report("state", device.hub_id, device.pk, body, ts or timezone.now(), True)


def status_report(hub, status: str) -> Report:
    return Report("status", hub.pk, None, {"status": status}, timezone.now(), False)


def _in_thread(target):
    result: dict = {}

    def run():
        try:
            result["value"] = target()
        except BaseException as exc:  # handed to the test's thread
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def listener_ingests(reports: list[Report], timeout: float = 30):
    """Apply `reports` as the listener does, committed on another connection; its outcome."""
    thread, result = _in_thread(lambda: ingest(reports))
    thread.join(timeout)
    assert not thread.is_alive(), "the listener's batch did not finish: is its row locked by this connection?"
    if "error" in result:
        raise result["error"]
    return result["value"]


def _locks_or_writes(sql: str, table: str) -> bool:
    if f'"{table}"' not in sql:
        return False
    return bool(re.match(r"^\s*UPDATE\b", sql, re.IGNORECASE)) or "FOR UPDATE" in sql.upper()


@contextmanager
def listener_lands_before_write(table: str, reports: list[Report]):
    """Run the listener's batch just before this connection's first statement that locks or
    writes a row of `table`: after the request loaded the row, before it saves it.

    Yields a list holding the batch's outcome once it ran; fails if it never did.
    """
    ran: list = []

    def intercept(execute, sql, params, many, context):
        if not ran and _locks_or_writes(sql, table):
            ran.append(listener_ingests(reports))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(intercept):
        yield ran
    assert ran, f"nothing locked or wrote {table}"


def _wait_until_blocked(thread, result, timeout: float) -> None:
    """Return once the listener's thread waits for a lock this connection holds."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            # A row lock's waiter waits for the holder's transaction id, a lock without a
            # database; the backend says whose it is. Statistics views are read once per
            # transaction unless the snapshot is cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE a.datname = current_database() AND NOT l.granted")
            if cursor.fetchone()[0]:
                return
            assert thread.is_alive() and time.monotonic() < deadline, f"the listener did not wait: {result}"
            time.sleep(0.01)


def _joined(thread, result, timeout):
    thread.join(timeout)
    assert not thread.is_alive(), "the listener's batch still waits after the commit"
    if "error" in result:
        raise result["error"]
    return result["value"]


def _start_waiting_listener(reports, timeout, done: list) -> None:
    thread, result = _in_thread(lambda: ingest(reports))
    _wait_until_blocked(thread, result, timeout)
    transaction.on_commit(lambda: done.append(_joined(thread, result, timeout)))


@contextmanager
def listener_waiting(reports: list[Report], timeout: float = 30):
    """Start the listener's batch while this connection's transaction holds rows it needs;
    the block runs once the batch is seen waiting for a row lock, and the batch's outcome is
    in the yielded list after the transaction that encloses the block commits.

    Use inside `transaction.atomic()` and leave that block to let the batch go on.
    """
    done: list = []
    _start_waiting_listener(reports, timeout, done)
    yield done


@contextmanager
def listener_waiting_at_write(table: str, reports: list[Report], timeout: float = 30):
    """Start the listener's batch just before this connection's first statement that writes
    a row of `table`, and let that statement run once the batch waits for a lock: the
    interleaving in which two writers that lock the same rows in different orders deadlock.
    The batch's outcome is in the yielded list after the enclosing transaction commits.
    """
    done: list = []
    started: list = []

    def intercept(execute, sql, params, many, context):
        if not started and f'"{table}"' in sql and re.match(r"^\s*UPDATE\b", sql, re.IGNORECASE):
            started.append(True)
            _start_waiting_listener(reports, timeout, done)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(intercept):
        yield done
    assert started, f"nothing wrote {table}"
