"""Benchmark: how often do a burst of keep-alive connections leave one of two web workers idle?

Usage: python bench/worker_balance.py [--runs 25] [--seconds 3] [--concurrency 10]
       [--servers uvicorn:2 serve:2]
For each server, starts it once, then runs wrk `--runs` times (each run opens its connections
at once and keeps them), and prints each run's requests/s, p99 and the busiest worker's share
of the servers' CPU (50%: both busy; 100%: every connection on one worker), then a summary
row per server: the runs where one worker did at least 90% of the work.
"""
import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rest_devices import Server, bench_setup, busiest_share, cpu_by_process, wrk  # noqa: E402

ONE_SIDED = 90.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--servers", nargs="+", default=["uvicorn:2", "serve:2"])
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    _, env, home_id, token, _ = bench_setup(["DB_POOL=true"])  # the Procfile's setting

    summary = []
    for spec in args.servers:
        name, _, workers = spec.partition(":")
        server = Server(name, int(workers or 1), env)
        url = f"http://127.0.0.1:{server.port}/api/homes/{home_id}/devices"
        shares, rates = [], []
        try:
            server.wait_ready(url, token)
            wrk(url, token, args.concurrency, 2)  # warm-up
            for run in range(args.runs):
                groups = {p.pid for p in server.processes}
                before = cpu_by_process(groups=groups)
                result = wrk(url, token, args.concurrency, args.seconds)
                share = busiest_share(before, cpu_by_process(groups=groups))
                shares.append(share)
                rates.append(result["rps"])
                print(f"# {spec} run {run + 1}: {result['rps']:.0f} req/s, p99 {result['p99_us'] / 1000:.1f} ms, "
                      f"busiest worker {share:.0f}%", flush=True)
        finally:
            server.stop()
        one_sided = [rate for share, rate in zip(shares, rates) if share >= ONE_SIDED]
        balanced = [rate for share, rate in zip(shares, rates) if share < ONE_SIDED]
        summary.append((spec, len(one_sided), len(shares), balanced, one_sided))

    print(f"| server | runs with one worker idle (c={args.concurrency}) | req/s, both busy | req/s, one idle |")
    print("| --- | ---: | ---: | ---: |")
    for spec, idle, runs, balanced, one_sided in summary:
        def span(rates):
            return f"{min(rates):.0f}-{max(rates):.0f}" if rates else "-"
        print(f"| {spec} | {idle} of {runs} | {span(balanced)} | {span(one_sided)} |")


if __name__ == "__main__":
    main()
