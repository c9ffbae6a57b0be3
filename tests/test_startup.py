"""Nothing serves with DEBUG off on a published key; client addresses come from trusted proxies only."""
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.server import web_server
from veahome.startup import DEVELOPMENT_KEY, insecure_settings

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3y-" + "x" * 60


@pytest.mark.parametrize(("key", "problem"), [
    (DEVELOPMENT_KEY, "SECRET_KEY is a published sample value"),
    ("change-me", "SECRET_KEY is a published sample value"),  # the .env.example value
    ("short-but-random", "SECRET_KEY is shorter than 32 characters"),
])
def test_sample_or_short_keys_are_refused_with_debug_off(settings, key, problem):
    settings.DEBUG = False
    settings.SECRET_KEY = key
    settings.JWT_SIGNING_KEY_SET_APART = False
    assert insecure_settings() == [problem]


def test_a_random_key_passes_and_debug_allows_the_development_key(settings):
    settings.DEBUG, settings.SECRET_KEY, settings.JWT_SIGNING_KEY_SET_APART = False, GOOD_KEY, False
    assert insecure_settings() == []
    settings.DEBUG, settings.SECRET_KEY = True, DEVELOPMENT_KEY
    assert insecure_settings() == []


def test_a_jwt_key_set_apart_is_held_to_the_same_rule(settings):
    settings.DEBUG, settings.SECRET_KEY, settings.JWT_SIGNING_KEY_SET_APART = False, GOOD_KEY, True
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "change-me"}
    assert insecure_settings() == ["JWT_SECRET is a published sample value"]


def run(command: list[str], key: str, timeout: float = 60) -> subprocess.CompletedProcess:
    from tests.server import test_database_url

    env = os.environ | {"SECRET_KEY": key, "DEBUG": "false", "JWT_SECRET": "", "DATABASE_URL": test_database_url()}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.django_db
@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "veahome.serve", "--port", "0", "--workers", "1"],
    [sys.executable, "manage.py", "mqtt_listen"],
    [sys.executable, "manage.py", "check"],
    [sys.executable, "-m", "celery", "-A", "veahome", "worker", "--pool", "solo", "-Q", "refused-startup"],
    [sys.executable, "-m", "celery", "-A", "veahome", "beat", "--schedule", "/dev/null"],
    [sys.executable, "-c", "import veahome.asgi"],
], ids=["web", "mqtt_listen", "manage.py", "celery-worker", "celery-beat", "asgi"])
def test_every_entry_point_refuses_the_development_key(command):
    result = run(command, DEVELOPMENT_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY is a published sample value" in result.stdout + result.stderr


@pytest.mark.django_db
def test_manage_py_check_passes_on_a_random_key():
    result = run([sys.executable, "manage.py", "check"], GOOD_KEY)
    assert result.returncode == 0, result.stderr


def login_status(base: str, forwarded_for: str) -> int:
    """A failed login's status, sent with a given X-Forwarded-For."""
    request = urllib.request.Request(f"{base}/api/auth/login", data=b'{"email": "x@example.com", "password": "x"}',
                                     headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded_for})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        return error.status
    return 200


@pytest.mark.django_db(transaction=True)
def test_a_spoofed_forwarded_for_does_not_reset_the_login_throttle():
    with web_server(env={"AUTH_THROTTLE_RATE": "3/min"}) as base:
        statuses = [login_status(base, f"203.0.113.{n}") for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


@pytest.mark.django_db(transaction=True)
def test_a_trusted_proxy_names_the_client():
    with web_server(env={"AUTH_THROTTLE_RATE": "3/min", "TRUSTED_PROXIES": "127.0.0.1"}) as base:
        statuses = [login_status(base, f"203.0.113.{n}") for n in range(5)]
    assert statuses == [401] * 5
