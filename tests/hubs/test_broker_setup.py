"""`manage.py broker_setup`: the project's Mosquitto configuration and the backend's account."""
import json

import pytest
from django.core.management import CommandError, call_command

from hubs.mqtt import topics


def test_config_sets_limits_persistence_and_dynamic_security(tmp_path, settings, capsys):
    settings.MQTT_URL = "mqtt://backend:backend-secret@127.0.0.1:18830"
    settings.MQTT_ADMIN_URL = "mqtt://admin:admin-secret@127.0.0.1:18830"
    call_command("broker_setup", "--config-dir", str(tmp_path))
    config = (tmp_path / "mosquitto.conf").read_text()
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in config.splitlines() if line and not line.startswith("#")}
    assert lines["listener"] == "18830 127.0.0.1"
    assert lines["allow_anonymous"] == "false"
    assert lines["plugin"].endswith("mosquitto_dynamic_security.so")
    assert int(lines["max_queued_messages"]) == settings.MQTT_MAX_QUEUED_MESSAGES > 1000
    assert lines["max_inflight_messages"] == str(settings.MQTT_MAX_INFLIGHT_MESSAGES)
    assert (lines["persistence"], lines["autosave_on_changes"]) == ("true", "true")

    state_file = tmp_path / "dynamic-security.json"
    assert state_file.stat().st_mode & 0o077 == 0
    text = state_file.read_text()
    assert "backend-secret" not in text and "admin-secret" not in text
    state = json.loads(text)
    assert {c["username"] for c in state["clients"]} == {"admin", "backend"}
    assert state["defaultACLAccess"]["publishClientSend"] is False
    assert state["defaultACLAccess"]["subscribe"] is False

    # A second run keeps the broker-owned state file as it is.
    call_command("broker_setup", "--config-dir", str(tmp_path))
    assert state_file.read_text() == text


def test_setup_needs_account_credentials(tmp_path, settings):
    settings.MQTT_URL = "mqtt://127.0.0.1:1883"
    settings.MQTT_ADMIN_URL = "mqtt://admin:pw@127.0.0.1:1883"
    with pytest.raises(CommandError, match="MQTT_URL"):
        call_command("broker_setup", "--config-dir", str(tmp_path))


def test_accounts_converge_on_a_running_broker(broker, settings):
    settings.MQTT_URL = f"mqtt://backend-second:second-secret@127.0.0.1:{broker.port}"
    call_command("broker_setup", "--accounts")
    backend = broker.connect(username="backend-second", password="second-secret")
    assert backend.connect_result() == "Success"
    assert backend.subscribe(topics.hub_all("+"))[0] == 1
    assert backend.subscribe("#")[0].is_failure

    # Re-running with a new password rotates it.
    settings.MQTT_URL = f"mqtt://backend-second:third-secret@127.0.0.1:{broker.port}"
    call_command("broker_setup", "--accounts")
    assert broker.connect(username="backend-second", password="second-secret").connect_result().is_failure
    assert broker.connect(username="backend-second", password="third-secret").connect_result() == "Success"


def test_backend_may_split_reports_over_shared_subscriptions(broker):
    listener = broker.connect_backend()
    assert listener.connect_result() == "Success"
    for topic in topics.subscriptions():
        assert listener.subscribe(f"$share/listeners/{topic}")[0] == 1
    assert listener.subscribe("$share/listeners/#")[0].is_failure


def test_backend_role_follows_a_changed_topic_prefix(broker, settings, home):
    from tests import factories as f

    settings.MQTT_TOPIC_PREFIX = "elsewhere"
    broker.sync_backend_role()
    creds = broker.provision(f.HubFactory(home=home))
    assert creds.topic_root.startswith("elsewhere/hubs/")
    listener = broker.connect_backend()
    assert listener.connect_result() == "Success"
    assert listener.subscribe(topics.hub_all("+"))[0] == 1
    hub = broker.connect_hub(creds)
    assert hub.connect_result() == "Success"
    assert hub.publish(f"{creds.topic_root}/status", {"status": "online"}) == 0
    topic, payload, _ = listener.next_message()
    assert (topic, payload) == (f"{creds.topic_root}/status", {"status": "online"})
