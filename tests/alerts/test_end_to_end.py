"""Alerts from reports that come through the broker and `mqtt_listen`, onto the home's live
feed: a leak raised and then resolved; a hub's last will raising `hub_offline` after the delay."""
import json
import time

import paho.mqtt.client as paho
import pytest

from alerts import services
from alerts.models import Alert
from hubs.mqtt import topics
from tests.ingest.conftest import HOST, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def hub_client(mqtt, hub, *, will: bool = False) -> paho.Client:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"hub-{hub.pk}", protocol=paho.MQTTv311)
    if will:
        client.will_set(topics.hub_status(hub.pk), json.dumps({"status": "offline"}), qos=1, retain=True)
    client.connect(HOST, mqtt.port, keepalive=5)
    client.loop_start()
    return client


def test_a_leak_over_mqtt_is_an_alert_on_the_live_feed_and_dry_resolves_it(place, mqtt, listener, feed):
    home, hub, leak = place["home"], place["hub"], place["leak"]
    listener()
    live = feed(home.pk)
    client = hub_client(mqtt, hub)
    topic = topics.device_report(hub.pk, leak.pk, "telemetry")
    client.publish(topic, json.dumps({"leak": 1}), qos=1).wait_for_publish(5)

    raised = live.wait_for("alert:new", kind="water_leak")
    assert (raised["data"]["severity"], raised["data"]["status"], raised["data"]["sourceId"]) == (
        "critical", "open", str(leak.pk))
    client.publish(topic, json.dumps({"leak": 0}), qos=1).wait_for_publish(5)
    resolved = live.wait_for("alert:update", alertId=raised["data"]["alertId"], status="closed")
    assert resolved["data"]["resolution"] == "resolved"
    client.disconnect()
    client.loop_stop()


def test_a_hubs_last_will_raises_hub_offline_once_the_delay_is_over(place, mqtt, listener, feed):
    home, hub = place["home"], place["hub"]
    services.alert_rule_update(home=home, kind="hub_offline", delay_seconds=1)
    listener()
    live = feed(home.pk)
    client = hub_client(mqtt, hub, will=True)
    client.publish(topics.hub_status(hub.pk), json.dumps({"status": "online"}), qos=1, retain=True).wait_for_publish(5)
    wait_until(lambda: hub.__class__.objects.get(pk=hub.pk).status == "online")
    # The hub's connection dies without a goodbye: the broker publishes its will.
    client.socket().close()
    client.loop_stop()
    wait_until(lambda: hub.__class__.objects.get(pk=hub.pk).status == "offline", timeout=20)
    assert not Alert.objects.filter(home=home).exists()
    time.sleep(1.1)
    assert services.alerts_tick() == 1
    raised = live.wait_for("alert:new", kind="hub_offline")
    assert raised["data"]["sourceId"] == str(hub.pk)
