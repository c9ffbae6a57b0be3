"""The web process: N uvicorn workers on one port, each accepting on its own socket.

Usage: python -m veahome.serve [--host 127.0.0.1] [--port 8000] [--workers 2] [--log-level info] [--access-log]

`uvicorn --workers N` shares one listening socket between its workers. When a burst of
connections arrives, the first worker to wake accepts every pending one, and keep-alive
connections (and websockets) stay on the worker that accepted them: in 14 of 50 runs of
bench/worker_balance.py, all 10 of wrk's connections landed on one worker, which then served
at one core's speed while the other idled. Here each worker gets its own socket bound to the same
port with SO_REUSEPORT, so the kernel assigns every new connection to one of them as it
arrives.

The supervisor owns the sockets and starts one worker process per socket, each running
uvicorn's Server on the socket it inherits (with the web process's settings: websockets by
websockets' sans-I/O protocol without compression, no lifespan). A worker that
exits on its own is started again on the same socket (connections that arrive meanwhile wait
in its queue); SIGTERM or SIGINT stops every worker through uvicorn's graceful shutdown, and
the supervisor exits when they have.
"""
import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time

log = logging.getLogger("veahome.serve")

APP = "veahome.asgi:application"
RESTART_DELAY = 1.0
STOP_TIMEOUT = 30.0
# A worker that dies this soon after starting, this many times in a row, will not start:
# the supervisor stops the others and exits with an error instead of looping.
QUICK_EXIT_SECONDS = 10.0
QUICK_EXITS_ALLOWED = 5


def listening_sockets(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """`count` sockets listening on one port; with port 0 the first one picks it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, sockets[0].getsockname()[1] if sockets else port))
        sock.listen(backlog)
        sock.set_inheritable(True)
        sockets.append(sock)
    return sockets


class Supervisor:
    def __init__(self, sockets: list[socket.socket], worker_options: list[str]):
        self.sockets = sockets
        self.options = worker_options
        self.workers: dict[int, subprocess.Popen] = {}
        self.started_at: dict[int, float] = {}
        self.quick_exits: dict[int, int] = {}
        self.stopping = False
        self.failed = False

    def start(self, index: int) -> None:
        fd = self.sockets[index].fileno()
        command = [sys.executable, "-m", "veahome.serve", "--worker-fd", str(fd), *self.options]
        self.workers[index] = subprocess.Popen(command, pass_fds=(fd,))
        self.started_at[index] = time.monotonic()
        log.info("worker %d started (pid %d)", index, self.workers[index].pid)

    def stop(self, *_signal) -> None:
        self.stopping = True
        for worker in self.workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for index in range(len(self.sockets)):
            self.start(index)
        restart_at: dict[int, float] = {}
        while not self.stopping:
            for index, worker in list(self.workers.items()):
                if index in restart_at or worker.poll() is None:
                    continue
                quick = time.monotonic() - self.started_at[index] < QUICK_EXIT_SECONDS
                self.quick_exits[index] = self.quick_exits.get(index, 0) + 1 if quick else 0
                if self.quick_exits[index] >= QUICK_EXITS_ALLOWED:
                    log.error("worker %d keeps exiting right after it starts (last: %s); stopping",
                              index, worker.returncode)
                    self.failed = True
                    self.stop()
                    break
                log.error("worker %d (pid %d) exited with %s; starting it again", index, worker.pid, worker.returncode)
                restart_at[index] = time.monotonic() + RESTART_DELAY
            for index, when in list(restart_at.items()):
                if time.monotonic() >= when and not self.stopping:
                    del restart_at[index]
                    self.start(index)
            time.sleep(0.2)
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in self.workers.values():
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for sock in self.sockets:
            sock.close()
        return 1 if self.failed else 0


def run_worker(fd: int, log_level: str, access_log: bool) -> None:
    """One worker: uvicorn's Server on the inherited listening socket."""
    import uvicorn
    from django.conf import settings

    # uvicorn trusts X-Forwarded-For from 127.0.0.1 by default: any local client could then
    # name itself anyone and reset the login and provisioning throttles per request.
    trusted = settings.TRUSTED_PROXIES
    config = uvicorn.Config(
        APP, ws="websockets-sansio", ws_per_message_deflate=False, lifespan="off",
        log_level=log_level, access_log=access_log,
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m veahome.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    parser.add_argument("--worker-fd", type=int, help=argparse.SUPPRESS)  # set by the supervisor
    args = parser.parse_args(argv)
    if args.worker_fd is not None:
        run_worker(args.worker_fd, args.log_level, args.access_log)
        return 0
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veahome.settings")
    from django.core.exceptions import ImproperlyConfigured

    from veahome.startup import refuse_insecure_settings

    # One clear line instead of every worker failing the same way. A settings module that
    # does not load at all is left to the workers, whose traceback says why.
    try:
        refuse_insecure_settings()
    except ImproperlyConfigured as error:
        log.error("%s", error)
        return 2
    except ImportError:
        pass
    sockets = listening_sockets(args.host, args.port, args.workers)
    log.info("listening on %s:%d with %d workers", args.host, sockets[0].getsockname()[1], args.workers)
    options = ["--log-level", args.log_level] + (["--access-log"] if args.access_log else [])
    return Supervisor(sockets, options).run()


if __name__ == "__main__":
    sys.exit(main())
