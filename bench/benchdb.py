"""The benchmarks' own database: `DATABASE_URL` + `_bench` (or `BENCH_DATABASE_URL`), created and
migrated on first use, so a benchmark never needs the stack's database nor touches it."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench_database_url() -> str:
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/veahome")
    prefix, _, name = base.rpartition("/")
    return f"{prefix}/{name.split('?')[0]}_bench"


def ensure_database(url: str) -> None:
    import psycopg

    prefix, _, name = url.rpartition("/")
    with psycopg.connect(f"{prefix}/postgres", autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                   env=os.environ | {"DATABASE_URL": url})


def use_bench_database() -> str:
    """Point this process (and the processes it starts) at the benchmark database; call before django.setup()."""
    if os.environ.get("BENCH_DATABASE_READY") and os.environ["BENCH_DATABASE_READY"] == os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]  # a process the benchmark started: already pointed there
    url = bench_database_url()
    ensure_database(url)
    os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_READY"] = url
    return url
