"""The seed's "Testing" section, run verbatim with curl against the real web process."""
import json
import subprocess

import pytest

from homes.models import Home, User
from tests.server import web_server

# Copied unchanged from the seed's "1. Test Authentication"; only the base URL is the local server's.
SEED_BASE = "https://your-api.com/dev"
REGISTER = """curl -X POST https://your-api.com/dev/auth/register \\
  -H "Content-Type: application/json" \\
  -d '{"name":"Test User","email":"test@example.com","password":"password123"}'"""
LOGIN = """curl -X POST https://your-api.com/dev/auth/login \\
  -H "Content-Type: application/json" \\
  -d '{"email":"test@example.com","password":"password123"}'"""


def curl(command: str, base: str) -> tuple[int, dict]:
    command = command.replace(SEED_BASE, f"{base}/api") + " -s -w '\\n%{http_code}'"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30, check=True)
    body, _, status = result.stdout.rpartition("\n")
    return int(status), json.loads(body)


def assert_auth_shape(body: dict) -> None:
    assert set(body) >= {"token", "user", "homes"}
    assert body["token"].count(".") == 2  # a JWT
    assert set(body["user"]) >= {"id", "name", "email", "homeId"}
    assert body["user"]["name"] == "Test User" and body["user"]["email"] == "test@example.com"
    assert body["homes"] and set(body["homes"][0]) >= {"id", "name"}
    assert body["user"]["homeId"] == body["homes"][0]["id"]


@pytest.mark.slow
def test_register_then_login_with_the_seeds_curl_commands(transactional_db):
    with web_server() as base:
        status, registered = curl(REGISTER, base)
        assert status == 201, registered
        assert_auth_shape(registered)
        assert registered["homes"][0]["name"] == "My Home"

        status, logged_in = curl(LOGIN, base)
        assert status == 200, logged_in
        assert_auth_shape(logged_in)
        assert logged_in["user"]["id"] == registered["user"]["id"]

        status, again = curl(REGISTER, base)
        assert status == 409 and again["error"]["code"] == "email_taken"

    user = User.objects.get(email="test@example.com")
    # The server process hashes with the production hasher (the test process uses a fast one).
    assert str(user.pk) == registered["user"]["id"] and user.password.startswith("argon2$")
    assert "password123" not in user.password
    assert Home.objects.get(pk=registered["user"]["homeId"]).owner == user
