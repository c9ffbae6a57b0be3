"""Live-server fixtures: the real ASGI application under uvicorn, on loopback, on a free port.

The server is a separate process reading pytest-django's test database, so tests that use it
must commit their rows: mark them `django_db(transaction=True)` (see `pytestmark` in the
suites). It shares the Redis database and channel-layer prefix with the test process, so a
`publish()` in the test reaches its sockets the same way a worker's would.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from django.conf import settings
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides) -> dict:
    """The test process's environment, pointed at the test database."""
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'] or '')}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DJANGO_SETTINGS_MODULE="veahome.settings",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class AsgiServer:
    """`uvicorn veahome.asgi:application` in a subprocess; stop() ends it."""

    def __init__(self, **env):
        self.log = tempfile.NamedTemporaryFile(prefix="asgi-", suffix=".log", delete=False)
        for attempt in range(5):
            self.port = free_port()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "veahome.asgi:application", "--host", "127.0.0.1",
                 "--port", str(self.port), "--ws", "websockets-sansio", "--lifespan", "off", "--log-level", "info"],
                cwd=ROOT, env=server_env(**env), stdout=self.log, stderr=subprocess.STDOUT,
            )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"ASGI server did not start; log: {self.logs()}")

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _wait_ready(self, timeout: float = 30) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.http_url}/api/auth/me", timeout=1).status_code == 401:
                    return True
            except httpx.HTTPError:
                time.sleep(0.1)
        return False

    def logs(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# Short enough that the auth-timeout test is quick, long enough for a loaded machine.
DEFAULT_SERVER_ENV = {"REALTIME_AUTH_TIMEOUT": 2, "REALTIME_HEARTBEAT_TIMEOUT": 60}


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """One server for the session; it stops before the test database is dropped."""
    server = AsgiServer(**DEFAULT_SERVER_ENV)
    yield server
    server.stop()


@pytest.fixture
def asgi_server_factory(django_db_setup):
    """A server with its own settings (env overrides), stopped at the end of the test."""
    servers = []

    def start(**env) -> AsgiServer:
        server = AsgiServer(**(DEFAULT_SERVER_ENV | env))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def access_token(user, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


class Feed:
    """A websocket client of the home feed, reading JSON messages."""

    def __init__(self, ws):
        self.ws = ws

    def next(self, timeout: float = 10) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def next_event(self, name: str, timeout: float = 10, **data) -> dict:
        """The next message called `name` whose data has the given items, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(timeout=max(0.01, deadline - time.monotonic()))
            if message["event"] == name and all(message["data"].get(k) == v for k, v in data.items()):
                return message

    def send(self, **message) -> None:
        self.ws.send(json.dumps(message))

    def close_code(self, timeout: float = 10) -> tuple[int, str]:
        """Read until the server closes; the close code and reason it sent."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.ws.recv(timeout=max(0.01, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code, closed.rcvd.reason

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def feed(asgi_server):
    """`feed(user, home, how=...)` opens a socket; every one is closed after the test.

    how: "header" (Authorization), "subprotocol", "message" (first {action:"auth"}),
    "query" (?token=, only if the server enables it), or "none".
    """
    opened = []

    def open_feed(user, home_id, how="header", last_event_id=None, server=None, path=None,
                  token=None, origin=None, wait_ready=True):
        server = server or asgi_server
        token = token or (access_token(user) if user is not None else None)
        params = {}
        path = path or f"/ws/homes/{home_id}"
        headers, subprotocols = {}, None
        if how == "header":
            headers["Authorization"] = f"Bearer {token}"
        elif how == "subprotocol":
            subprotocols = ["veahome.v1", f"bearer.{token}"]
        elif how == "query":
            params["token"] = token
        if last_event_id is not None and how != "message":
            params["lastEventId"] = last_event_id
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"{server.ws_url}{path}" + (f"{'&' if '?' in path else '?'}{query}" if query else "")
        ws = connect(url, additional_headers=headers, subprotocols=subprotocols, origin=origin, open_timeout=10)
        client = Feed(ws)
        opened.append(client)
        if how == "message":
            message = {"action": "auth", "token": token}
            if last_event_id is not None:
                message["lastEventId"] = last_event_id
            client.send(**message)
        if wait_ready:
            client.ready = client.next_event("session:ready")
        return client

    yield open_feed
    for client in opened:
        client.close()


def publish_from_subprocess(home_id, event: str, data: dict) -> None:
    """`realtime.publish` run by another process, as a worker or the MQTT listener would."""
    code = f"import json; from realtime import publish; publish({str(home_id)!r}, {event!r}, json.loads({json.dumps(data)!r}))"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=server_env(), check=True, timeout=60,
        capture_output=True,
    )
