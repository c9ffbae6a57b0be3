"""docker-compose.yml: what `docker compose up` runs is safe by default.

No Docker daemon is needed: the file is read as Compose reads it, and the broker
configuration its setup service writes is produced with the same command and arguments.
"""
import re
import shlex
from pathlib import Path

import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "beat", "mqtt", "hubsim"]


def _command(service):
    command = SERVICES[service]["command"]
    return command if isinstance(command, str) else " ".join(command)


def _config_lines(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_the_broker_runs_the_configuration_broker_setup_writes(tmp_path, settings):
    broker = SERVICES["mosquitto"]
    setup = SERVICES["broker-setup"]
    assert broker["depends_on"]["broker-setup"]["condition"] == "service_completed_successfully"
    volume = broker["volumes"][0].split(":")
    assert setup["volumes"][0].split(":")[:2] == volume[:2]
    data_dir = volume[1]
    assert _command("mosquitto") == f"mosquitto -c {data_dir}/mosquitto.conf"

    # Replay the setup service's command here, with its arguments, into a temporary dir.
    args = shlex.split(re.search(r"manage\.py (broker_setup [^&\"]+)", _command("broker-setup")).group(1))
    args = [str(tmp_path) if a == data_dir else a for a in args]
    settings.MQTT_URL = "mqtt://veahome-backend:backend-secret@mosquitto:1883"
    settings.MQTT_ADMIN_URL = "mqtt://veahome-admin:admin-secret@mosquitto:1883"
    settings.MQTT_DYNSEC_PLUGIN = setup["environment"]["MQTT_DYNSEC_PLUGIN"]
    call_command(*args)
    lines = _config_lines((tmp_path / "mosquitto.conf").read_text())
    assert "allow_anonymous false" in lines
    assert "allow_anonymous true" not in lines
    assert f"plugin {settings.MQTT_DYNSEC_PLUGIN}" in lines
    assert "user mosquitto" in lines
    assert "listener 1883 0.0.0.0" in lines


def test_no_service_brings_an_anonymous_broker_config():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                for path in (ROOT / source).rglob("*.conf") if (ROOT / source).is_dir() else [ROOT / source]:
                    assert "allow_anonymous true" not in _config_lines(path.read_text()), (name, path)


def test_the_broker_port_is_published_on_loopback_only():
    assert SERVICES["mosquitto"]["ports"] == ["127.0.0.1:1883:1883"]


def test_processes_need_a_secret_key_and_broker_passwords():
    for name in APP_SERVICES + ["broker-setup"]:
        env = SERVICES[name]["environment"]
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), name
        assert "${MQTT_PASSWORD:?" in env["MQTT_URL"], name
        assert "${MQTT_ADMIN_PASSWORD:?" in env["MQTT_ADMIN_URL"], name


def test_demo_accounts_and_simulated_hubs_only_when_asked():
    migrate = _command("migrate")
    before, _, guarded = migrate.partition("if test $${DEMO} = 1; then")
    assert "seed_demo" not in before and "seed_demo" in guarded
    assert SERVICES["migrate"]["environment"]["DEMO"] == "${DEMO:-0}"
    assert SERVICES["hubsim"]["profiles"] == ["demo"]
