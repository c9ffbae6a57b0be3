"""Benchmark: authenticated GET /api/homes/{homeId}/devices (20 devices) on daphne, uvicorn and the web process (veahome.serve), driven by wrk.

Usage: python bench/rest_devices.py [--duration 10] [--concurrency 1 10 50]
       [--servers daphne:1 daphne:2 uvicorn:1 uvicorn:2 serve:2] [--env KEY=VALUE ...]
Prints one table row per server, worker count and concurrency (see bench/README.md).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.benchdb import bench_database_url, ensure_database  # noqa: E402

DEVICES = 20
BENCH_EMAIL = "bench@veahome.local"
LUA = Path(__file__).with_name("wrk_report.lua")


def prepare_data() -> tuple[str, str, dict[int, int]]:
    """The bench home with DEVICES devices, an access token, and queries per request by device count."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from devices.models import Device
    from devices.services import device_create
    from homes.models import Home, Room, User
    from homes.services import home_create, room_create

    user = User.objects.filter(email=BENCH_EMAIL).first() or User.objects.create_user(
        email=BENCH_EMAIL, password="bench-password", name="Bench"
    )

    def furnished(name: str, count: int) -> Home:
        home = Home.objects.filter(owner=user, name=name).first() or home_create(owner=user, name=name)
        room = Room.objects.in_home(home).first() or room_create(home=home, name="Lab")
        have = Device.objects.in_home(home).count()
        for n in range(have, count):
            device_create(home=home, room=room, name=f"Device {n}", type="light", category="Zigbee",
                          value=50, unit="%", signal_mappings={"ON": "0x1", "OFF": "0x2"})
        return home

    homes = {count: furnished(f"Bench home {count}", count) for count in (DEVICES, DEVICES * 2)}
    token = str(RefreshToken.for_user(user).access_token)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    queries = {}
    for count, home in homes.items():
        client.get(f"/api/homes/{home.pk}/devices")  # warm caches that exist once per process
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/homes/{home.pk}/devices")
        assert response.status_code == 200 and response.json()["count"] == count, response.content[:300]
        queries[count] = len(captured.captured_queries)
    connection.close()
    return str(homes[DEVICES].pk), token, queries


def server_command(server: str, workers: int, port: int, fd: int | None) -> list[str]:
    bin_dir = Path(sys.executable).parent
    if server == "daphne":
        # Daphne has no worker option; N processes accept on one shared listening socket.
        return [str(bin_dir / "daphne"), "--fd", str(fd), "veahome.asgi:application"]
    if server == "serve":
        # The Procfile's web process: one uvicorn per worker, each on its own SO_REUSEPORT socket.
        return [sys.executable, "-m", "veahome.serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers), "--log-level", "warning"]
    command = [str(bin_dir / "uvicorn"), "veahome.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--ws", "websockets-sansio", "--no-access-log", "--lifespan", "off", "--log-level", "warning"]
    return command + (["--workers", str(workers)] if workers > 1 else [])


class Server:
    """One server configuration on a free port, stopped with its whole process group."""

    def __init__(self, server: str, workers: int, env: dict):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        copies = workers if server == "daphne" else 1
        fd = None
        if server == "daphne":
            self.sock.listen(1024)
            self.sock.set_inheritable(True)
            fd = self.sock.fileno()
        else:
            self.sock.close()  # uvicorn binds the port itself
        self.processes = [
            subprocess.Popen(server_command(server, workers, self.port, fd), cwd=ROOT, env=env,
                             pass_fds=(fd,) if fd is not None else (), start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(copies)
        ]

    def wait_ready(self, url: str, token: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(process.stderr.read().decode()[-3000:])
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = json.loads(response.read())
                    assert len(body["results"]) == DEVICES, body
                    return
            except (urllib.error.URLError, OSError):  # not listening yet, or too slow to answer
                time.sleep(0.2)
        raise TimeoutError(f"server on {self.port} not ready")

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.sock.close()


def wrk(url: str, token: str, concurrency: int, seconds: float) -> dict:
    result = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "5s", "-s", str(LUA),
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_process(pids: set[int] | None = None, groups: set[int] | None = None) -> dict[int, float]:
    """CPU time (user + system, seconds) of the given processes, or of every process in the given groups."""
    times = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, group = int(entry.name), int(fields[2])
        if (pids and pid in pids) or (groups and group in groups):
            times[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return times


def cpu_seconds(pids: set[int] | None = None, groups: set[int] | None = None) -> float:
    return sum(cpu_by_process(pids, groups).values())


def busiest_share(before: dict[int, float], after: dict[int, float]) -> float:
    """The busiest server process's share of the servers' CPU. With two workers, 50% means both
    were busy; 100% means wrk's connections, which stay open, all went to one worker at the start."""
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    return 100 * max(used) / sum(used) if sum(used) > 0 else 0.0


def speed_probe() -> float:
    """Seconds for a fixed pure-Python loop: this VM's speed at the moment, printed with each table."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def database_backends(database_url: str) -> set[int]:
    """PostgreSQL backend processes serving the bench database (the servers' pooled connections)."""
    import psycopg

    name = database_url.rpartition("/")[2]
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("select pid from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                            [name]).fetchall()
    return {pid for (pid,) in rows}


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_setup(settings: list[str]) -> tuple[str, dict, str, str, dict[int, int]]:
    """The bench database and data, and the servers' environment with `settings` (KEY=VALUE) applied:
    (database URL, environment, home id, access token, queries per request by device count)."""
    database_url = bench_database_url()
    ensure_database(database_url)
    os.environ.update({"DATABASE_URL": database_url, "JWT_ACCESS_MINUTES": "600",
                       "DJANGO_SETTINGS_MODULE": "veahome.settings"})
    os.environ.update(dict(item.split("=", 1) for item in settings))
    home_id, token, queries = prepare_data()
    return database_url, os.environ | {"LOG_LEVEL": "WARNING"}, home_id, token, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each row")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--servers", nargs="+", default=["daphne:1", "daphne:2", "uvicorn:1", "uvicorn:2", "serve:2"])
    parser.add_argument("--env", nargs="*", default=["DB_POOL=true"],
                        help="KEY=VALUE settings for the servers (default: the Procfile's DB_POOL=true)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    database_url, env, home_id, token, queries = bench_setup(args.env)

    print(f"# GET /api/homes/{{homeId}}/devices, {DEVICES} devices, wrk -t1 on the same machine, "
          f"{args.duration:g} s per row after {args.warmup:g} s warm-up")
    print(f"# queries per request: {queries[DEVICES]} with {DEVICES} devices, "
          f"{queries[DEVICES * 2]} with {DEVICES * 2}")
    print(f"# server settings: {' '.join(args.env) or 'defaults'}; load average at start: {load_average()}; "
          f"speed probe (10M-step Python loop): {speed_probe():.2f} s")
    print("| server | workers | concurrency | req/s | p50 ms | p99 ms | errors | server CPU ms/req | db CPU ms/req "
          "| busiest worker's CPU share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    url_path = f"/api/homes/{home_id}/devices"
    for spec in args.servers:
        name, _, workers = spec.partition(":")
        server = Server(name, int(workers or 1), env)
        try:
            url = f"http://127.0.0.1:{server.port}{url_path}"
            server.wait_ready(url, token)
            for concurrency in args.concurrency:
                if args.warmup:
                    wrk(url, token, concurrency, args.warmup)
                groups, backends = {p.pid for p in server.processes}, database_backends(database_url)
                server_before, db_cpu = cpu_by_process(groups=groups), cpu_seconds(pids=backends)
                r = wrk(url, token, concurrency, args.duration)
                server_after = cpu_by_process(groups=groups)
                server_cpu = sum(server_after.values()) - sum(server_before.values())
                share = busiest_share(server_before, server_after)
                db_cpu = cpu_seconds(pids=backends | database_backends(database_url)) - db_cpu
                errors = r["socket_errors"] + r["non_2xx"]
                print(f"| {name} | {workers or 1} | {concurrency} | {r['rps']:.0f} | {r['p50_us'] / 1000:.1f} | "
                      f"{r['p99_us'] / 1000:.1f} | {errors} | {server_cpu * 1000 / r['requests']:.1f} | "
                      f"{db_cpu * 1000 / r['requests']:.1f} | {share:.0f}% |", flush=True)
        finally:
            server.stop()
    print(f"# load average at end: {load_average()}; speed probe: {speed_probe():.2f} s")


if __name__ == "__main__":
    main()
