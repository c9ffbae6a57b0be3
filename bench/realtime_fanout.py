"""Websocket fan-out benchmark: one event to N subscribers of a home, and to many homes.

Starts the real ASGI application under uvicorn on a free loopback port, opens websocket
clients in this process, publishes with `realtime.publish` from a separate process, and
reports delivery latency (publish call -> client receive) and deliveries per second.
Every delivery is checked: each client must get every event exactly once, in id order.

    python bench/realtime_fanout.py            # 10, 100, 1000 subscribers; 1000 homes x 1
    python bench/realtime_fanout.py --quick    # 10 and 100 subscribers only
    python bench/realtime_fanout.py --server daphne
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")

from bench.benchdb import use_bench_database  # noqa: E402

use_bench_database()

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from homes.models import Home, Membership, User  # noqa: E402
from homes.scoping import Role  # noqa: E402
from realtime import publish  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(workers: int, args) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, REALTIME_HEARTBEAT_TIMEOUT="600", REALTIME_CLIENT_BUFFER="5000")
    if args.server == "daphne":
        command = ["daphne", "-b", "127.0.0.1", "-p", str(port), *args.server_flags.split(), "veahome.asgi:application"]
    else:
        command = [sys.executable, "-m", "uvicorn", "veahome.asgi:application", "--host", "127.0.0.1",
                   "--port", str(port), "--ws", "websockets-sansio", *args.server_flags.split(), "--lifespan", "off",
                   "--log-level", "warning", "--no-access-log", "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/auth/me", timeout=1).status_code == 401:
                process.port = port
                return process, port
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("server did not start")


def publisher(conn) -> None:
    """Runs in its own process: publishes what the parent asks, stamping each event's send time."""
    while True:
        command = conn.recv()
        if command is None:
            return
        home_ids, rounds, interval = command
        next_round = time.monotonic()
        for seq in range(rounds):
            for home_id in home_ids:
                publish(home_id, "device:update", {"seq": seq, "t": time.time(), "state": {"isActive": True}})
            if interval:  # a steady rate, not drifting with the publish time
                next_round += interval
                time.sleep(max(0.0, next_round - time.monotonic()))
        conn.send("done")


class Subscriber:
    def __init__(self, url: str, token: str):
        self.url, self.token = url, token
        self.received: list[tuple[float, str]] = []
        self.ready = asyncio.Event()

    async def run(self):
        async with connect(self.url, additional_headers={"Authorization": f"Bearer {self.token}"},
                           max_size=None, ping_interval=None, open_timeout=60) as ws:
            async for text in ws:
                if not self.ready.is_set():
                    if '"session:ready"' in text:
                        self.ready.set()
                    continue
                self.received.append((time.time(), text))

    def events(self) -> list[dict]:
        out = []
        for at, text in self.received:
            message = json.loads(text)
            if message["event"] == "device:update":
                out.append({"at": at, "id": message["id"], **message["data"]})
        return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (uvicorn workers)."""
    total = 0.0
    for p in [pid, *child_pids(pid)]:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def child_pids(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def scenario(name, server, pairs, pipe, rounds, interval) -> dict:
    """pairs: (home_id, token) per subscriber. Returns latency and rate figures."""
    port = server.port
    subscribers = [Subscriber(f"ws://127.0.0.1:{port}/ws/homes/{home}", token) for home, token in pairs]
    tasks = []
    for i in range(0, len(subscribers), 50):  # connect in waves: a connect costs two queries
        batch = subscribers[i:i + 50]
        tasks += [asyncio.create_task(s.run()) for s in batch]
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in batch)), 120)
    homes = sorted({home for home, _ in pairs})
    await asyncio.sleep(0.5)
    cpu_before = cpu_seconds(server.pid)
    started = time.time()
    pipe.send((homes, rounds, interval))
    expected = rounds  # events per subscriber: each follows one home
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if all(sum('"device:update"' in t for _, t in s.received) >= expected for s in subscribers):
            break
        await asyncio.sleep(0.05)
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    cpu = cpu_seconds(server.pid) - cpu_before
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    latencies, lost, misordered, last_at = [], 0, 0, started
    for s in subscribers:
        events = s.events()
        seqs = [e["seq"] for e in events]
        lost += expected - len(set(seqs))
        ids = [e["id"] for e in events]
        misordered += ids != sorted(set(ids))
        latencies += [(e["at"] - e["t"]) * 1000 for e in events]
        last_at = max([last_at] + [e["at"] for e in events])
    deliveries = len(latencies)
    return {
        "scenario": name, "subscribers": len(subscribers), "events": rounds * len(homes), "deliveries": deliveries,
        "p50": statistics.median(latencies), "p99": percentile(latencies, 0.99), "max": max(latencies),
        "rate": deliveries / (last_at - started), "lost": lost, "misordered": misordered,
        "cpu_us": cpu * 1e6 / max(1, deliveries),
    }


def make_homes(user, count: int) -> list[Home]:
    homes = Home.objects.bulk_create([Home(owner=user, name=f"bench {i}") for i in range(count)])
    Membership.objects.bulk_create([Membership(home=h, user=user, role=Role.OWNER) for h in homes])
    return homes


async def run_scenarios(args, server, pipe, token, single_homes, many_homes) -> list[dict]:
    results = []
    for n, home in single_homes:
        pairs = [(str(home.pk), token)] * n
        # Spaced single events: the latency a person sees.
        results.append(await scenario(f"1 home x {n} subs: 20 events 50 ms apart", server, pairs, pipe, 20, 0.05))
        # The goal rate, held for 3 s: 10,000 deliveries/s.
        per_second = 10_000 / n
        results.append(await scenario(
            f"1 home x {n} subs: {per_second:g} events/s for 3 s", server, pairs, pipe, int(3 * per_second), 1 / per_second
        ))
        # As fast as the publisher can go: the ceiling.
        burst = max(20, 20_000 // n)
        results.append(await scenario(f"1 home x {n} subs: burst of {burst}", server, pairs, pipe, burst, 0))
    if many_homes:
        pairs = [(str(h.pk), token) for h in many_homes]
        results.append(await scenario("1000 homes x 1 sub: 10 rounds 200 ms apart", server, pairs, pipe, 10, 0.2))
        results.append(await scenario("1000 homes x 1 sub: burst of 20 rounds", server, pairs, pipe, 20, 0))
    return results


def main(args) -> None:
    user = User.objects.create_user(email=f"bench-{os.getpid()}-{time.time()}@example.com", password="x" * 12, name="Bench")
    token = str(AccessToken.for_user(user))
    sizes = [10, 100] if args.quick else [10, 100, 1000]
    single_homes = list(zip(sizes, make_homes(user, len(sizes))))
    many_homes = [] if args.quick else make_homes(user, 1000)
    connection.close()
    parent, child = multiprocessing.Pipe()
    pub = multiprocessing.get_context("fork").Process(target=publisher, args=(child,), daemon=True)
    pub.start()
    server, _ = start_server(args.workers, args)
    try:
        results = asyncio.run(run_scenarios(args, server, parent, token, single_homes, many_homes))
        print_table(results, args.server, args.workers, args.server_flags)
    finally:
        parent.send(None)
        server.terminate()
        server.wait()
        Home.objects.filter(owner=user).delete()
        user.delete()


def print_table(results: list[dict], server: str, workers: int, flags: str) -> None:
    print(f"\nserver: {server}, workers: {workers}, flags: {flags!r}; clients and publisher on the same machine\n")
    print("| scenario | deliveries | p50 ms | p99 ms | max ms | deliveries/s | server CPU µs/delivery | lost | out of order |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['scenario']} | {r['deliveries']} | {r['p50']:.1f} | {r['p99']:.1f} | {r['max']:.1f} "
              f"| {r['rate']:,.0f} | {r['cpu_us']:.0f} | {r['lost']} | {r['misordered']} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 subscribers only")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--server-flags", default=None,
                        help="extra server flags (uvicorn default: --ws-per-message-deflate false)")
    arguments = parser.parse_args()
    if arguments.server_flags is None:
        arguments.server_flags = "--ws-per-message-deflate false" if arguments.server == "uvicorn" else ""
    main(arguments)
