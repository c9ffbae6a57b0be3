"""Pairing and unpairing a hub through the app's API."""
import pytest

from hubs.models import Hub, HubRoom
from devices.models import Device
from tests import factories as f
from tests.conftest import client_for


@pytest.fixture
def new_hub(db):
    return f.claimable(f.HubFactory(home=None, status=Hub.Status.UNPAIRED, serial_number="VH20260001"))


@pytest.fixture(autouse=True)
def _relaxed_pair_throttle(settings):
    settings.HUB_PAIR_THROTTLE_RATE = "1000/min"  # the throttle has its own test


def pair(client, hub_or_code, home):
    code = hub_or_code if isinstance(hub_or_code, str) else f.hub_qr(hub_or_code)
    return client.post("/api/hub/pair", {"qrCode": code, "homeId": str(home.pk)}, format="json")


def test_owner_pairs_an_unpaired_hub(api, home, new_hub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = pair(api, new_hub, home)
    assert response.status_code == 201, response.content
    body = response.json()
    # The seed's response fields, then the hub as every other hub endpoint shows it.
    assert (body["hubId"], body["id"]) == (str(new_hub.pk), str(new_hub.pk))
    assert body["status"] == "pairing"
    assert body["mqttTopic"].endswith(f"hubs/{new_hub.pk}")
    new_hub.refresh_from_db()
    assert new_hub.home_id == home.pk and new_hub.paired_at is not None
    assert len(callbacks) == 1  # the hub:paired event goes out on commit
    listed = api.get(f"/api/homes/{home.pk}/hubs").json()["results"]
    assert [h["id"] for h in listed] == [str(new_hub.pk)]


def test_pairing_again_to_the_same_home_is_harmless(api, home, new_hub):
    first = pair(api, new_hub, home)
    again = pair(api, new_hub, home)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["pairedAt"] == first.json()["pairedAt"]
    assert Hub.objects.get(pk=new_hub.pk).home_id == home.pk


def test_a_hub_of_another_home_is_never_taken_over(home, new_hub):
    other_owner = f.UserFactory()
    other_home = f.make_home(other_owner, name="Neighbour")
    assert pair(client_for(other_owner), new_hub, other_home).status_code == 201

    response = pair(client_for(home.owner), new_hub, home)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hub_paired_elsewhere"
    assert "qrCode" in response.json()["error"]["fields"]
    assert Hub.objects.get(pk=new_hub.pk).home_id == other_home.pk


def test_outsider_naming_a_home_they_do_not_belong_to_gets_404(outsider, home, new_hub):
    response = pair(outsider, new_hub, home)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Hub.objects.get(pk=new_hub.pk).home_id is None


@pytest.mark.parametrize("role", ["guest", "member"])
def test_pairing_needs_admin_role(as_role, home, new_hub, role):
    response = pair(as_role(role), new_hub, home)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "role_required"
    assert Hub.objects.get(pk=new_hub.pk).home_id is None


def test_admin_may_pair(as_role, home, new_hub):
    assert pair(as_role("admin"), new_hub, home).status_code == 201


def test_anonymous_cannot_pair(anon, home, new_hub):
    assert pair(anon, new_hub, home).status_code == 401


@pytest.mark.parametrize("code", ["", "VEAHUB-", "HUB-VH20260001", "VEAHUB-bad serial!", "x" * 101])
def test_malformed_qr_code_is_400_on_the_field(api, home, new_hub, code):
    response = pair(api, code, home)
    assert response.status_code == 400, response.content
    assert "qrCode" in response.json()["error"]["fields"]


def test_unknown_hub_is_404_on_the_field(api, home, db):
    response = pair(api, "VEAHUB-NOSUCHHUB1", home)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "hub_not_found"
    assert "qrCode" in response.json()["error"]["fields"]


def test_bad_home_id_is_400(api, new_hub):
    response = api.post("/api/hub/pair", {"qrCode": f.hub_qr(new_hub), "homeId": "nope"}, format="json")
    assert response.status_code == 400
    assert "homeId" in response.json()["error"]["fields"]


def test_unpair_releases_the_hub_and_keeps_devices_in_the_home(api, world):
    hub, lamp = world["hub"], world["lamp"]
    response = api.post(f"/api/hubs/{hub.pk}/unpair")
    assert response.status_code == 204
    hub.refresh_from_db()
    assert (hub.home_id, hub.status, hub.mqtt_topic) == (None, "unpaired", "")
    assert not HubRoom.objects.filter(hub=hub).exists()
    lamp = Device.objects.get(pk=lamp.pk)
    assert lamp.hub_id is None and lamp.home_id == world["home"].pk and lamp.room_id == world["living"].pk
    assert api.get(f"/api/hubs/{hub.pk}").status_code == 404
    # Released, it can be paired again (here: by the same home), with proof of possession.
    f.claimable(hub)
    assert pair(api, hub, world["home"]).status_code == 201


def test_delete_on_the_hub_unpairs_it(api, world):
    hub = world["hub"]
    assert api.delete(f"/api/hubs/{hub.pk}").status_code == 204
    assert Hub.objects.get(pk=hub.pk).home_id is None


def open_claim_window(anon, hub, secret=f.FACTORY_SECRET):
    return anon.post("/api/hub/claim-window", {"serial": hub.serial_number, "factorySecret": secret}, format="json")


def test_a_serial_alone_does_not_pair_a_hub(api, home, new_hub):
    response = pair(api, f"VEAHUB-{new_hub.serial_number}", home)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "hub_claim_refused"
    assert "qrCode" in response.json()["error"]["fields"]
    assert Hub.objects.get(pk=new_hub.pk).home_id is None


def test_a_wrong_claim_code_does_not_pair_a_hub(api, home, new_hub):
    response = pair(api, f"VEAHUB-{new_hub.serial_number}.AAAAAAAAAAAA", home)
    assert (response.status_code, response.json()["error"]["code"]) == (403, "hub_claim_refused")
    assert Hub.objects.get(pk=new_hub.pk).home_id is None


def test_the_seeds_qr_code_pairs_while_the_hubs_claim_window_is_open(api, anon, home, new_hub, settings):
    opened = open_claim_window(anon, new_hub)
    assert opened.status_code == 200, opened.content
    assert opened.json()["hubId"] == str(new_hub.pk)

    assert pair(api, f"VEAHUB-{new_hub.serial_number}", home).status_code == 201
    hub = Hub.objects.get(pk=new_hub.pk)
    assert hub.home_id == home.pk and hub.claim_window_until is None  # pairing closes the window


def test_an_expired_claim_window_does_not_pair(api, anon, home, new_hub, settings):
    settings.HUB_CLAIM_WINDOW_SECONDS = 0
    assert open_claim_window(anon, new_hub).status_code == 200
    assert pair(api, f"VEAHUB-{new_hub.serial_number}", home).status_code == 403


def test_only_the_factory_secret_opens_a_claim_window(anon, new_hub):
    response = open_claim_window(anon, new_hub, secret="not-the-factory-secret")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "invalid_credentials")
    assert Hub.objects.get(pk=new_hub.pk).claim_window_until is None


def test_a_paired_hub_opens_no_claim_window(api, anon, home, new_hub):
    assert pair(api, new_hub, home).status_code == 201
    response = open_claim_window(anon, new_hub)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "hub_paired_elsewhere")


def test_pairing_attempts_are_throttled_per_user(api, home, new_hub, settings):
    from django.core.cache import cache

    settings.HUB_PAIR_THROTTLE_RATE = "3/min"
    cache.clear()
    codes = [pair(api, f"VEAHUB-{new_hub.serial_number}.AAAAAAAAAAA{i}", home).status_code for i in range(2, 6)]
    assert codes == [403, 403, 403, 429]
    cache.clear()


def test_the_manufacturing_import_stores_the_claim_code_hashed(db):
    from hubs.services import claim_code, hubs_import

    hubs_import(rows=[["VH20269999", f.FACTORY_SECRET]])
    hub = Hub.objects.get(serial_number="VH20269999")
    assert hub.claim_code_hash and claim_code(f.FACTORY_SECRET) not in hub.claim_code_hash
    assert len(claim_code(f.FACTORY_SECRET)) == 12
