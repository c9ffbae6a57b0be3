"""The ASGI handler: a request's sync work in one hop to one thread, responses sent whole."""
import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.core import signals

from veahome.handlers import OneHopASGIHandler

pytestmark = pytest.mark.django_db(transaction=True)


def scope(method: str, path: str, headers=()) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 5555),
        "server": ("127.0.0.1", 8000),
    }


def exchange(handler, request_scope, body: bytes = b"", chunks: int = 1):
    """Send the request body in `chunks` pieces; return status, headers and the whole body."""
    return asyncio.run(_exchange(handler, request_scope, body, chunks))


async def _exchange(handler, request_scope, body, chunks):
    app = ApplicationCommunicator(handler, request_scope)
    size = max(1, -(-len(body) // chunks))
    pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
    for index, piece in enumerate(pieces):
        await app.send_input({"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1})
    start = await app.receive_output(timeout=10)
    assert start["type"] == "http.response.start"
    content = b""
    while True:
        message = await app.receive_output(timeout=10)
        content += message.get("body", b"")
        if not message.get("more_body"):
            break
    await app.wait(timeout=10)
    return start["status"], dict(start["headers"]), content


@pytest.fixture
def signal_threads():
    seen = []

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def test_signals_and_view_run_on_one_worker_thread(signal_threads):
    status, headers, content = exchange(OneHopASGIHandler(), scope("GET", "/api/no-such-thing"))
    assert status == 404 and headers[b"Content-Type"] == b"application/json"
    assert "error" in json.loads(content)
    assert [event for event, _ in signal_threads] == ["started", "finished"]
    threads = {thread for _, thread in signal_threads}
    assert len(threads) == 1 and threads != {threading.get_ident()}


def test_a_body_in_several_chunks_reaches_the_view():
    body = json.dumps({"email": "nobody@example.com", "password": "x" * 120}).encode()
    status, _, content = exchange(
        OneHopASGIHandler(), scope("POST", "/api/auth/login",
              [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]),
        body, chunks=7,
    )
    # Parsed whole: a credentials error, not a parse error.
    assert status == 401, content
    assert json.loads(content)["error"]["code"] != "parse_error"


def test_a_streamed_file_arrives_whole_and_the_request_finishes_after_it(signal_threads):
    name = "admin/js/vendor/jquery/jquery.js"  # several of the handler's 64 KiB chunks
    path = Path(settings.STATIC_ROOT) / name
    assert path.exists(), "collectstatic has not run (scripts/test runs it)"
    assert path.stat().st_size > 3 * OneHopASGIHandler.chunk_size
    status, _, content = exchange(OneHopASGIHandler(), scope("GET", f"{settings.STATIC_URL}{name}"))
    assert status == 200 and content == path.read_bytes()
    assert [event for event, _ in signal_threads] == ["started", "finished"]


def test_a_request_cut_off_before_its_body_runs_nothing(signal_threads):
    async def cut_off():
        app = ApplicationCommunicator(OneHopASGIHandler(), scope("POST", "/api/auth/login"))
        await app.send_input({"type": "http.request", "body": b"{", "more_body": True})
        await app.send_input({"type": "http.disconnect"})
        await app.wait(timeout=10)
        assert await app.receive_nothing()

    asyncio.run(cut_off())
    assert signal_threads == []


def test_threads_are_reused_across_requests(signal_threads):
    handler = OneHopASGIHandler()

    async def five():
        for _ in range(5):
            await _exchange(handler, scope("GET", "/api/no-such-thing"), b"", 1)

    asyncio.run(five())
    assert len({thread for _, thread in signal_threads}) == 1


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_at_most_web_threads_requests_run_django_at_once(settings, threads):
    settings.WEB_THREADS = threads
    handler = OneHopASGIHandler()
    lock, running, peak = threading.Lock(), [0], [0]

    def started(**kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1

    async def six_at_once():
        return await asyncio.gather(*(_exchange(handler, scope("GET", "/api/no-such-thing"), b"", 1) for _ in range(6)))

    signals.request_started.connect(started)
    try:
        results = asyncio.run(six_at_once())
    finally:
        signals.request_started.disconnect(started)
    assert [status for status, _, _ in results] == [404] * 6  # every request is served in turn
    assert peak[0] == threads
