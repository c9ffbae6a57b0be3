"""Benchmark: CPU per device-list request through the ASGI application itself, no server, no network.

Usage: python bench/rest_inprocess.py [--requests 300] [--rounds 5] [--profile N] [--instructions]
Drives `veahome.asgi.application` with the same request as bench/rest_devices.py (20 devices,
a valid token) and prints the process's CPU time per request for each round. It isolates the
application's own cost from uvicorn, wrk and the kernel, so two versions of the code compare
more steadily than with the wrk benchmark on a shared machine. `--profile N` prints the N
most expensive functions (cProfile, cumulative) of one more round; cProfile sees only the
event loop's thread, so it profiles the sync path (WSGI handler) instead.

`--instructions` counts CPU instructions per request instead of seconds: the same script
runs under valgrind's callgrind with 50 and then 250 requests, and the difference is divided
by 200. Instruction counts do not move with the machine's load, so two versions of the code
compare to within a fraction of a percent even on a busy VM (Debian package `valgrind`;
about two minutes).
"""
import argparse
import asyncio
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import bench_database_url, ensure_database  # noqa: E402


def asgi_scope(path: str, token: str) -> dict:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 8000),
    }


async def one_request(application, scope: dict) -> None:
    sent, body_given = [], False
    disconnect = asyncio.get_running_loop().create_future()  # never: the client stays

    async def receive():
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await disconnect

    async def send(message):
        sent.append(message)

    await application(dict(scope), receive, send)
    assert sent[0]["status"] == 200, sent[:2]


async def rounds(application, scope: dict, requests: int, count: int) -> list[float]:
    for _ in range(min(200, requests)):  # warm-up
        await one_request(application, scope)
    samples = []
    for _ in range(count):
        started = time.process_time()
        for _ in range(requests):
            await one_request(application, scope)
        samples.append((time.process_time() - started) * 1000 / requests)
    return samples


def profile_sync_path(path: str, token: str, requests: int, top: int) -> None:
    import cProfile
    import pstats

    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Bearer {token}",
               "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr}

    def run():
        for _ in range(requests):
            status = []
            b"".join(app(environ | {"wsgi.input": io.BytesIO(b"")}, lambda s, h: status.append(s)))
            assert status[0].startswith("200"), status

    run()
    profiler = cProfile.Profile()
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


def instructions_per_request(small: int = 50, large: int = 250) -> float:
    """Instructions of `large - small` more requests under callgrind, per request."""
    if not shutil.which("valgrind"):
        sys.exit("valgrind is missing: apt-get install valgrind")
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for requests in (small, large):
            result = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/callgrind.out",
                 sys.executable, __file__, "--only", str(requests)],
                capture_output=True, text=True,
            )
            collected = re.search(r"Collected : (\d+)", result.stderr)
            if result.returncode != 0 or collected is None or f"served {requests}" not in result.stdout:
                sys.exit(f"callgrind run of {requests} requests failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
            counts.append(int(collected.group(1)))
    return (counts[1] - counts[0]) / (large - small)


async def serve(application, scope: dict, requests: int) -> None:
    for _ in range(requests):
        await one_request(application, scope)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--instructions", action="store_true", help="count instructions per request (valgrind)")
    parser.add_argument("--only", type=int, default=0, help=argparse.SUPPRESS)  # N requests, nothing else
    args = parser.parse_args()

    database_url = bench_database_url()
    ensure_database(database_url)
    os.environ.update({"DATABASE_URL": database_url, "BENCH_DATABASE_URL": database_url,
                       "JWT_ACCESS_MINUTES": "600", "DB_POOL": "true",
                       "DJANGO_SETTINGS_MODULE": "veahome.settings", "LOG_LEVEL": "WARNING"})
    from bench.rest_devices import DEVICES, prepare_data

    home_id, token, queries = prepare_data()
    from veahome.asgi import application

    path = f"/api/homes/{home_id}/devices"
    if args.only:
        asyncio.run(serve(application, asgi_scope(path, token), args.only))
        print(f"served {args.only}")
        return
    if args.instructions:
        from django.db import connections

        connections.close_all()
        print(f"# GET {path.replace(home_id, '{homeId}')}, {DEVICES} devices, {queries[DEVICES]} queries, "
              f"{sys.implementation.name} {sys.version.split()[0]} at {sys.executable}")
        print(f"instructions per request (callgrind, 250 - 50 requests): {instructions_per_request():,.0f}")
        return
    samples = asyncio.run(rounds(application, asgi_scope(path, token), args.requests, args.rounds))
    print(f"# GET {path.replace(home_id, '{homeId}')}, {DEVICES} devices, {queries[DEVICES]} queries, "
          f"{sys.implementation.name} {sys.version.split()[0]} at {sys.executable}")
    print(f"CPU ms per request, {args.rounds} rounds of {args.requests}: "
          f"{' '.join(f'{s:.2f}' for s in samples)}; median {statistics.median(samples):.2f}")
    if args.profile:
        profile_sync_path(path, token, args.requests, args.profile)


if __name__ == "__main__":
    main()
