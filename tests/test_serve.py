"""The web process's supervisor: one socket per worker on one port, restarts, clean stops."""
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.server import free_port
from veahome.serve import listening_sockets

ROOT = Path(__file__).resolve().parent.parent


def test_every_socket_listens_on_the_same_port_with_reuseport():
    sockets = listening_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and ports != {0}
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for sock in sockets)
        assert len({sock.fileno() for sock in sockets}) == 3
    finally:
        for sock in sockets:
            sock.close()


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


TCP_ESTABLISHED, TCP_LISTEN = "01", "0A"


def sockets_held(pid: int, port: int, state: str) -> set[str]:
    """Inodes of the TCP sockets on local `port` in `state` that process `pid` holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    held = set()
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held.add(target[8:-1])
    return held


def established_on(pid: int, port: int) -> int:
    return len(sockets_held(pid, port, TCP_ESTABLISHED))


def get(port: int, path: str = "/api/no-such-thing", connection=None) -> int:
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise TimeoutError(condition)


@pytest.fixture
def supervisor():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "veahome.serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
        cwd=ROOT, env=os.environ | {"LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(lambda: get(port) == 404)
        yield process, port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_each_worker_accepts_on_its_own_socket(supervisor):
    process, port = supervisor
    workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid))
    listening = {pid: sockets_held(pid, port, TCP_LISTEN) for pid in workers}
    assert all(len(inodes) == 1 for inodes in listening.values()), listening
    assert len(set.union(*listening.values())) == 2, listening


def test_connections_are_spread_over_both_workers(supervisor):
    process, port = supervisor
    workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid))
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(24)]
    try:
        # All connected at once, as clients reconnecting after a restart do.
        for connection in connections:
            connection.connect()
        assert {get(port, connection=c) for c in connections} == {404}
        held = {pid: established_on(pid, port) for pid in workers}
        # The kernel hashes each new connection to one of the two sockets: all 24 on one
        # worker would happen once in eight million runs.
        assert sum(held.values()) == 24 and all(count > 0 for count in held.values()), held
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_that_dies_is_started_again(supervisor):
    process, port = supervisor
    workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid))
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    replaced = wait_for(lambda: len(children(process.pid)) == 2 and victim not in children(process.pid)
                        and children(process.pid))
    assert replaced != workers and process.poll() is None
    assert all(get(port) == 404 for _ in range(10))


def test_sigterm_stops_the_workers_and_the_supervisor(supervisor):
    process, port = supervisor
    workers = wait_for(lambda: len(children(process.pid)) == 2 and children(process.pid))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not any(Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
                   for pid in workers)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_worker_that_cannot_start_stops_the_supervisor():
    port = free_port()
    process = subprocess.run(
        [sys.executable, "-m", "veahome.serve", "--port", str(port), "--workers", "1", "--log-level", "warning"],
        cwd=ROOT, env=os.environ | {"DJANGO_SETTINGS_MODULE": "no_such_settings_module"},
        capture_output=True, text=True, timeout=120,
    )
    assert process.returncode == 1
    assert "keeps exiting right after it starts" in process.stderr
