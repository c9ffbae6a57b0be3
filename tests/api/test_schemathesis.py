"""Fuzz the whole OpenAPI schema against a real server: no 5xx, and every schemathesis check passes."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import client_for
from tests import factories as f

ST = Path(sys.executable).with_name("st")

# Bounded so the run takes a minute or two on a shared 2-core machine.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))


def _config(world) -> str:
    """Pin path ids to the furnished home's objects so requests reach real data, not only 404s."""
    ids = {
        "homeId": world["home"].pk,
        "roomId": world["kitchen"].pk,
        "hubId": world["hub"].pk,
        "deviceId": world["lamp"].pk,
        "groupId": world["group"].pk,
        "sceneId": world["scene"].pk,
        "scheduleId": world["schedule"].pk,
        "automationId": world["automation"].pk,
        "memberId": world["guest_membership"].pk,
    }
    lines = ["[parameters]"] + [f'"path.{name}" = "{value}"' for name, value in ids.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_fuzzing_the_schema_finds_no_failure(world, live_server, tmp_path):
    from homes.models import Membership

    admin = f.add_member(world["home"], role="admin")
    guest = f.add_member(world["home"], role="guest")
    world["guest_membership"] = Membership.objects.get(user=guest, home=world["home"])
    token = client_for(admin)._credentials["HTTP_AUTHORIZATION"]
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(world))

    result = subprocess.run(
        [
            str(ST), "--config-file", str(config), "run", f"{live_server.url}/api/schema",
            "--checks", "all",
            "--max-examples", str(MAX_EXAMPLES),
            "--header", f"Authorization: {token}",
            "--workers", "2",
            "--seed", "1",
            "--no-color",
            "--generation-database", "none",
            "--suppress-health-check", "all",
            "--request-timeout", "20",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=900,
    )
    report = result.stdout + result.stderr
    assert "Server error" not in report, report[-20000:]
    assert result.returncode == 0, report[-20000:]
