"""Bounded input: free text has a maximum length, documents a maximum size, a home a maximum of each kind."""
import threading
import time

import pytest
from django.db import connection, transaction

from automations import services as automation_services
from automations.models import Automation, Scene, Schedule
from devices.models import Device, DeviceGroup
from homes.models import Home, Room
from hubs.models import Hub
from tests import factories as f
from veahome.api import NAME_MAX_LENGTH, TEXT_MAX_LENGTH
from veahome.errors import ApplicationError

from .test_errors import assert_error


def H(w):
    return f"/api/homes/{w['home'].pk}"


def creates(w) -> dict:
    """A valid body for each create, by what it creates."""
    lamp, scene = str(w["lamp"].pk), str(w["scene"].pk)
    return {
        "devices": (Device, f"{H(w)}/devices",
                    {"name": "Lamp 2", "type": "light", "category": "Zigbee", "roomId": str(w["living"].pk)}),
        "scenes": (Scene, f"{H(w)}/scenes", {"name": "Movie", "deviceStates": {lamp: {"isActive": True}}}),
        "schedules": (Schedule, f"{H(w)}/schedules",
                      {"name": "Wake", "time": "06:45", "days": ["monday"], "actions": [{"type": "scene", "sceneId": scene}]}),
        "automations": (Automation, f"{H(w)}/automations",
                        {"name": "Auto", "trigger": {"type": "time", "at": "22:00"},
                         "actions": [{"type": "scene", "sceneId": scene}]}),
        "device groups": (DeviceGroup, f"{H(w)}/device-groups", {"name": "All", "deviceIds": [lamp]}),
    }


KINDS = ["devices", "scenes", "schedules", "automations", "device groups"]
SETTING = {"devices": "HOME_MAX_DEVICES", "scenes": "HOME_MAX_SCENES", "schedules": "HOME_MAX_SCHEDULES",
           "automations": "HOME_MAX_AUTOMATIONS", "device groups": "HOME_MAX_DEVICE_GROUPS"}


# --- text --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS + ["rooms"])
def test_names_are_at_most_100_characters(api, world, kind):
    model, url, body = creates(world)[kind] if kind != "rooms" else (Room, f"{H(world)}/rooms", {"name": "Office"})
    before = model.objects.count()
    assert_error(api.post(url, body | {"name": "n" * (NAME_MAX_LENGTH + 1)}, format="json"), 400, "invalid", "name")
    assert model.objects.count() == before
    assert api.post(url, body | {"name": "n" * NAME_MAX_LENGTH}, format="json").status_code == 201


def test_home_hub_and_account_names_are_bounded_alike(api, anon, world):
    long = "n" * (NAME_MAX_LENGTH + 1)
    assert_error(api.patch(H(world), {"name": long}, format="json"), 400, "invalid", "name")
    assert_error(api.patch(f"/api/hubs/{world['hub'].pk}", {"name": long}, format="json"), 400, "invalid", "name")
    assert_error(api.post("/api/homes", {"name": long}, format="json"), 400, "invalid", "name")
    register = {"name": long, "email": "long@example.com", "password": "password123"}
    assert_error(anon.post("/api/auth/register", register, format="json"), 400, "invalid", "name")
    assert Home.objects.get(pk=world["home"].pk).name == world["home"].name
    assert Hub.objects.get(pk=world["hub"].pk).name == world["hub"].name


def test_a_megabyte_scene_description_is_refused(api, world):
    _, url, body = creates(world)["scenes"]
    before = Scene.objects.count()
    error = assert_error(api.post(url, body | {"description": "d" * 1_000_000}, format="json"), 400, "invalid", "description")
    assert str(TEXT_MAX_LENGTH) in error["message"]
    assert Scene.objects.count() == before
    assert api.post(url, body | {"description": "d" * TEXT_MAX_LENGTH}, format="json").status_code == 201


def test_the_schema_documents_the_lengths(api, db):
    schema = api.get("/api/schema?format=json").json()["components"]["schemas"]
    assert schema["SceneRequest"]["properties"]["name"]["maxLength"] == NAME_MAX_LENGTH
    assert schema["SceneRequest"]["properties"]["description"]["maxLength"] == TEXT_MAX_LENGTH
    assert schema["DeviceRequest"]["properties"]["name"]["maxLength"] == NAME_MAX_LENGTH


# --- documents ---------------------------------------------------------------------------------

def test_a_scene_state_document_above_the_size_limit_is_refused(api, world):
    lamp = str(world["lamp"].pk)
    body = {"name": "Big", "deviceStates": {lamp: {"isActive": True, "mode": "m" * 70_000}}}
    before = Scene.objects.count()
    assert_error(api.post(f"{H(world)}/scenes", body, format="json"), 400, "invalid", "deviceStates")
    assert Scene.objects.count() == before


def test_signal_mappings_above_the_size_limit_are_refused(api, world, settings):
    settings.JSON_DOCUMENT_MAX_BYTES = 1000
    mappings = {f"A{i}": "0x20DF10EF" * 10 for i in range(20)}
    response = api.patch(f"{H(world)}/devices/{world['tv'].pk}", {"signalMappings": mappings}, format="json")
    assert_error(response, 400, "invalid", "signalMappings")
    assert Device.objects.get(pk=world["tv"].pk).signal_mappings == world["tv"].signal_mappings


@pytest.mark.parametrize("field", ["actions", "trigger"])
def test_automation_documents_above_the_size_limit_are_refused(api, world, settings, field):
    settings.JSON_DOCUMENT_MAX_BYTES = 256
    _, url, body = creates(world)["automations"]
    value = {
        "actions": [{"type": "scene", "sceneId": str(world["scene"].pk)}] * 10,
        "trigger": {"type": "time", "at": "22:00", "note": "x" * 300},
    }[field]
    before = Automation.objects.count()
    assert_error(api.post(url, body | {field: value}, format="json"), 400, "invalid", field)
    assert Automation.objects.count() == before


def test_layout_above_the_size_limit_is_refused(api, world, settings):
    settings.JSON_DOCUMENT_MAX_BYTES = 64
    layout = {str(world["living"].pk): {"x": 1, "y": 2, "width": 3, "height": 4}}
    assert_error(api.put(f"{H(world)}/layout", {"layout": layout}, format="json"), 400, "invalid", "layout")
    assert Home.objects.get(pk=world["home"].pk).layout == world["home"].layout


# --- how many a home holds -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_a_home_at_its_limit_refuses_one_more(api, world, settings, kind):
    model, url, body = creates(world)[kind]
    held = model.objects.filter(home=world["home"]).count()
    setattr(settings, SETTING[kind], held + 1)
    assert api.post(url, body, format="json").status_code == 201
    error = assert_error(api.post(url, body, format="json"), 409, "home_limit")
    assert error["message"] == f"A home holds at most {held + 1} {kind}."
    assert model.objects.filter(home=world["home"]).count() == held + 1
    # Another home is not affected.
    other = f.make_home(world["home"].owner, name="Other")
    assert model.objects.filter(home=other).count() == 0


def test_defaults_are_the_documented_ones(settings):
    assert (settings.HOME_MAX_DEVICES, settings.HOME_MAX_SCENES, settings.HOME_MAX_SCHEDULES,
            settings.HOME_MAX_AUTOMATIONS, settings.HOME_MAX_DEVICE_GROUPS) == (500, 200, 200, 200, 100)


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_count_one_after_the_other(settings):
    """The second create waits for the first one's home lock, then sees its row and is refused."""
    settings.HOME_MAX_SCENES = 1
    home = f.make_home(f.UserFactory(), name="Race")
    outcome: dict = {}

    def second():
        try:
            automation_services.scene_create(home=Home.objects.get(pk=home.pk), name="B", device_states={})
        except ApplicationError as exc:
            outcome["refused"] = exc.code
        finally:
            connection.close()

    with transaction.atomic():
        automation_services.scene_create(home=home, name="A", device_states={})
        thread = threading.Thread(target=second, daemon=True)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the second create did not wait for the home's lock"
    thread.join(10)
    assert outcome == {"refused": "home_limit"}
    assert list(Scene.objects.filter(home=home).values_list("name", flat=True)) == ["A"]
