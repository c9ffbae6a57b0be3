"""Energy fixtures: a real InfluxDB 1.x server for the session, and `store` to run a test on both backends."""
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest

from energy.timeseries import get_backend

INFLUXD_CONFIG = """
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[continuous_queries]
  enabled = false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def influxdb_url():
    """Start `influxd` on free ports with its own data directory; stop it at the end."""
    binary = shutil.which("influxd")
    if binary is None:
        pytest.fail("influxd is not installed: run scripts/test (it installs Debian's influxdb package)")
    root = Path(tempfile.mkdtemp(prefix="veahome-influx-"))
    port = free_port()
    config = root / "influxdb.conf"
    config.write_text(INFLUXD_CONFIG.format(root=root, port=port, rpc_port=free_port()))
    log = open(root / "influxd.log", "wb")
    process = subprocess.Popen([binary, "-config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 204:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                pytest.fail(f"influxd exited: {(root / 'influxd.log').read_text()[-2000:]}")
            time.sleep(0.1)
        else:
            pytest.fail("influxd did not answer /ping")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["postgres", "influxdb"])
def store(request, settings, db):
    """The configured time-series backend, once per backend; InfluxDB gets a fresh database per test."""
    if request.param == "influxdb":
        settings.INFLUXDB_URL = request.getfixturevalue("influxdb_url")
        settings.INFLUXDB_DATABASE = f"test_{uuid.uuid4().hex[:12]}"
    else:
        settings.INFLUXDB_URL = ""
    backend = get_backend()
    assert backend.name == request.param
    yield backend
    if request.param == "influxdb":
        backend.drop_all()
