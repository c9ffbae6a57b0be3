"""Provisioning and the broker's enforcement of per-hub credentials, against a real Mosquitto."""
import logging
import queue

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache

from hubs.models import Hub
from hubs.mqtt import topics
from tests import factories as f

SECRET = "factory-secret-0123456789"
NOT_AUTHORIZED = 0x87


@pytest.fixture
def paired_hub(home):
    return f.HubFactory(home=home, status=Hub.Status.PAIRING, factory_secret_hash=make_password(SECRET))


def provision(anon, serial, secret=SECRET):
    return anon.post("/api/hub/provision", {"serial": serial, "factorySecret": secret}, format="json")


def test_provisioning_returns_working_credentials_once(broker, anon, paired_hub):
    response = provision(anon, paired_hub.serial_number)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    mqtt_creds = body["mqtt"]
    assert body["hubId"] == str(paired_hub.pk)
    assert mqtt_creds["clientId"] == str(paired_hub.pk)
    assert mqtt_creds["topicRoot"] == topics.hub_root(paired_hub.pk)
    assert (mqtt_creds["host"], mqtt_creds["port"]) == (broker.host, broker.port)
    paired_hub.refresh_from_db()
    assert paired_hub.broker_username == mqtt_creds["username"]
    assert paired_hub.credentials_rotated_at is not None
    # The password is not kept anywhere in the hub's row.
    assert mqtt_creds["password"] not in str(Hub.objects.filter(pk=paired_hub.pk).values().get())

    hub = broker.connect(username=mqtt_creds["username"], password=mqtt_creds["password"], client_id=mqtt_creds["clientId"])
    assert hub.connect_result() == "Success"


def test_each_provisioning_rotates_the_password(broker, anon, paired_hub):
    first = provision(anon, paired_hub.serial_number).json()["mqtt"]
    live = broker.connect(username=first["username"], password=first["password"], client_id=first["clientId"])
    assert live.connect_result() == "Success"
    second = provision(anon, paired_hub.serial_number).json()["mqtt"]
    assert second["password"] != first["password"]
    # The session on the old password is closed and the old password no longer works.
    assert live.disconnected.wait(5)
    live.client.loop_stop()
    stale = broker.connect(username=first["username"], password=first["password"], client_id=first["clientId"])
    assert stale.connect_result().is_failure
    fresh = broker.connect(username=second["username"], password=second["password"], client_id=second["clientId"])
    assert fresh.connect_result() == "Success"


def test_wrong_secret_and_unknown_serial_get_the_same_401(broker, anon, paired_hub):
    wrong = provision(anon, paired_hub.serial_number, "not-the-factory-secret")
    unknown = provision(anon, "VH99999999")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert Hub.objects.get(pk=paired_hub.pk).broker_username == ""


def test_an_unpaired_hub_gets_no_credentials(broker, anon, db):
    hub = f.HubFactory(home=None, status=Hub.Status.UNPAIRED, factory_secret_hash=make_password(SECRET))
    response = provision(anon, hub.serial_number)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hub_not_paired"


def test_provisioning_input_errors_name_the_field(broker, anon, db):
    response = anon.post("/api/hub/provision", {"serial": "VH1"}, format="json")
    assert response.status_code == 400
    assert "factorySecret" in response.json()["error"]["fields"]


def test_provisioning_is_throttled(broker, anon, paired_hub, settings):
    settings.HUB_PROVISION_THROTTLE_RATE = "3/min"
    cache.delete("throttle_hub_provision_127.0.0.1")
    codes = [provision(anon, paired_hub.serial_number, "guess-guess-guess").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    cache.delete("throttle_hub_provision_127.0.0.1")


def test_pair_then_provision_from_the_app_flow(broker, api, anon, home, django_capture_on_commit_callbacks):
    hub = f.claimable(f.HubFactory(home=None, status=Hub.Status.UNPAIRED), SECRET)
    assert provision(anon, hub.serial_number).status_code == 409
    assert api.post("/api/hub/pair", {"qrCode": f.hub_qr(hub, SECRET), "homeId": str(home.pk)}).status_code == 201
    creds = provision(anon, hub.serial_number).json()["mqtt"]
    connection = broker.connect(username=creds["username"], password=creds["password"], client_id=creds["clientId"])
    assert connection.connect_result() == "Success"


@pytest.fixture
def two_hubs(broker, home):
    a = f.HubFactory(home=home)
    b = f.HubFactory(home=home)
    return broker.provision(a), broker.provision(b)


def test_a_hub_cannot_publish_into_another_hubs_topics(broker, two_hubs):
    a, b = two_hubs
    backend = broker.connect_backend()
    assert backend.connect_result() == "Success"
    assert backend.subscribe(topics.hub_all("+"))[0] == 1
    hub_a = broker.connect_hub(a)
    assert hub_a.connect_result() == "Success"

    forged = {"deviceId": "x", "hubId": b.hub_id, "state": {"isActive": True}}
    assert hub_a.publish(f"{b.topic_root}/devices/x/state", forged).value == NOT_AUTHORIZED
    assert hub_a.publish(f"{b.topic_root}/status", {"status": "offline"}).value == NOT_AUTHORIZED
    # Nor into its own command topics (only the cloud sends those).
    assert hub_a.publish(f"{a.topic_root}/devices/x/control", {"action": "on"}).value == NOT_AUTHORIZED
    own = {"deviceId": "x", "hubId": a.hub_id, "state": {"isActive": True}}
    assert hub_a.publish(f"{a.topic_root}/devices/x/state", own).value == 0

    topic, payload, _ = backend.next_message()
    assert (topic, payload) == (f"{a.topic_root}/devices/x/state", own)
    with pytest.raises(queue.Empty):
        backend.next_message(timeout=0.5)


def test_a_hub_reads_only_its_own_command_topics(broker, two_hubs):
    a, b = two_hubs
    hub_a = broker.connect_hub(a)
    assert hub_a.connect_result() == "Success"
    assert hub_a.subscribe(f"{a.topic_root}/devices/+/control")[0] == 1
    assert hub_a.subscribe(f"{a.topic_root}/wifi/config")[0] == 1
    assert hub_a.subscribe(f"{b.topic_root}/devices/+/control")[0].value == NOT_AUTHORIZED
    assert hub_a.subscribe(f"{a.topic_root}/devices/+/state")[0].value == NOT_AUTHORIZED
    assert hub_a.subscribe("#")[0].value == NOT_AUTHORIZED


def test_another_hubs_login_cannot_take_over_a_hubs_client_id(broker, two_hubs):
    a, b = two_hubs
    hub_a = broker.connect_hub(a)
    assert hub_a.connect_result() == "Success"
    assert hub_a.subscribe(f"{a.topic_root}/devices/+/control")[0] == 1

    impostor = broker.connect(username=b.username, password=b.password, client_id=a.client_id)
    assert impostor.connect_result().is_failure
    anonymous = broker.connect(client_id=a.client_id)
    assert anonymous.connect_result().is_failure
    guessed = broker.connect(username=a.username, password="guessed", client_id=a.client_id)
    assert guessed.connect_result().is_failure

    assert not hub_a.disconnected.is_set()
    backend = broker.connect_backend()
    assert backend.connect_result() == "Success"
    assert backend.publish(f"{a.topic_root}/devices/d1/control", {"commandId": "c1", "action": "on"}) == 0
    topic, payload, _ = hub_a.next_message()
    assert payload == {"commandId": "c1", "action": "on"}


def test_unpairing_disconnects_the_hub_at_once(broker, api, home):
    hub = f.HubFactory(home=home)
    creds = broker.provision(hub)
    live = broker.connect_hub(creds, will=(f"{creds.topic_root}/status", {"status": "offline"}))
    assert live.connect_result() == "Success"

    assert api.post(f"/api/hubs/{hub.pk}/unpair").status_code == 204
    assert live.disconnected.wait(5)
    live.client.loop_stop()
    again = broker.connect_hub(creds)
    assert again.connect_result().is_failure
    hub.refresh_from_db()
    assert hub.broker_username == "" and hub.home_id is None


def test_unpairing_is_refused_whole_when_the_broker_is_unreachable(broker, api, home, settings):
    hub = f.HubFactory(home=home)
    creds = broker.provision(hub)
    from hubs import broker as broker_admin

    broker_admin.reset()
    settings.MQTT_ADMIN_URL = f"mqtt://nobody:wrong@127.0.0.1:{broker.port}"
    response = api.post(f"/api/hubs/{hub.pk}/unpair")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "broker_unavailable"
    hub.refresh_from_db()
    assert hub.home_id == home.pk and hub.broker_username == creds.username


@pytest.mark.django_db(transaction=True)
def test_wifi_settings_reach_the_hub_and_the_password_is_not_kept(broker, api, home, caplog):
    hub = f.HubFactory(home=home, status=Hub.Status.OFFLINE)
    creds = broker.provision(hub)
    device = broker.connect_hub(creds)
    assert device.connect_result() == "Success"
    assert device.subscribe(f"{creds.topic_root}/wifi/config")[0] == 1

    password = "correct horse battery"
    with caplog.at_level(logging.DEBUG):
        response = api.post(f"/api/hubs/{hub.pk}/wifi", {"ssid": "Casa-5G", "password": password})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["wifiSsid"], body["wifiConnected"]) == ("connecting", "Casa-5G", False)
    assert body["message"] == "WiFi credentials sent to hub"
    assert password not in response.content.decode()
    topic, payload, _ = device.next_message()
    assert topic == topics.wifi_config(hub.pk)
    assert payload == {"ssid": "Casa-5G", "password": password}
    assert password not in str(Hub.objects.filter(pk=hub.pk).values().get())
    assert password not in caplog.text
    assert api.get(f"/api/hubs/{hub.pk}/status").json()["status"] == "connecting"


@pytest.mark.django_db(transaction=True)
def test_wifi_settings_the_broker_does_not_take_leave_the_hub_as_it_was(broker, api, home, settings):
    from hubs.mqtt import publisher
    from tests.events import capture_events

    hub = f.HubFactory(home=home, status=Hub.Status.ONLINE, wifi_ssid="Old", wifi_connected=True)
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens on port 1
    publisher.reset()

    with capture_events(home.pk) as events:
        response = api.post(f"/api/hubs/{hub.pk}/wifi", {"ssid": "Casa-5G", "password": "correct horse"})

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "hub_unreachable"
    hub.refresh_from_db()
    assert (hub.status, hub.wifi_ssid, hub.wifi_connected) == ("online", "Old", True)
    assert [(name, data["status"]) for name, data in events] == [("hub:status", "connecting"), ("hub:status", "online")]
    publisher.reset()


@pytest.mark.parametrize(
    "body, field",
    [({"ssid": "", "password": "long enough"}, "ssid"), ({"ssid": "x" * 33, "password": ""}, "ssid"),
     ({"ssid": "Casa", "password": "short"}, "password"), ({"ssid": "Casa"}, "password")],
)
def test_wifi_input_errors_name_the_field(broker, api, home, body, field):
    hub = f.HubFactory(home=home, status=Hub.Status.ONLINE)
    response = api.post(f"/api/hubs/{hub.pk}/wifi", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    if "password" in body and body["password"]:
        assert body["password"] not in response.content.decode()
    assert Hub.objects.get(pk=hub.pk).status == "online"


def test_deleting_a_home_releases_its_hubs_and_disconnects_them(broker, api, home):
    hub = f.HubFactory(home=home)
    creds = broker.provision(hub)
    live = broker.connect_hub(creds)
    assert live.connect_result() == "Success"

    assert api.delete(f"/api/homes/{home.pk}").status_code == 204
    assert live.disconnected.wait(5)
    hub.refresh_from_db()
    assert (hub.home_id, hub.status, hub.broker_username) == (None, "unpaired", "")
