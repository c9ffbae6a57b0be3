"""`manage.py seed_demo`: a complete demo home a person can log into, created once however often it runs."""
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from rest_framework.test import APIClient

from devices.models import Device, DeviceType
from homes.models import Home, User
from homes.support import SUPPORT_GROUP
from hubs.models import Hub

DOMAIN_APPS = ("homes", "hubs", "devices", "automations")


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of the domain apps with its last modification time."""
    rows = {}
    for app in DOMAIN_APPS:
        for model in apps.get_app_config(app).get_models():
            fields = ["pk"] + (["updated_at"] if any(f.name == "updated_at" for f in model._meta.fields) else [])
            rows[model._meta.label] = sorted(map(str, model.objects.values_list(*fields)))
    return rows


@pytest.mark.django_db
def test_seed_demo_builds_a_furnished_home():
    seed()
    home = Home.objects.get(name="Demo Home", owner__email="demo@veahome.local")
    assert home.timezone == "Europe/Madrid"
    assert sorted(m.user.email for m in home.memberships.select_related("user")) == [
        "alex@veahome.local", "demo@veahome.local"
    ]
    hub = Hub.objects.get(serial_number="VH-DEMO-0001")
    assert hub.home == home
    assert sorted(s.room.name for s in hub.room_slots.select_related("room")) == ["Bedroom", "Living room"]
    devices = Device.objects.filter(home=home)
    assert {d.type for d in devices} == set(DeviceType.values)
    for device in devices.filter(category__in=["IR", "RF"]):
        assert device.signal_mappings, f"{device.name} has no learned signals"
        assert device.hub == hub and device.room.hub_slots.filter(hub=hub).exists()
    assert home.scenes.count() == 2 and home.schedules.count() == 2
    assert home.device_groups.count() == 2 and home.automations.count() == 2
    assert all(s.next_run_at is not None for s in home.schedules.all())


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing():
    seed()
    before = snapshot()
    assert seed().strip() == "seed_demo: nothing new"
    assert snapshot() == before


@pytest.mark.django_db
def test_demo_user_logs_in_to_the_demo_home():
    seed()
    response = APIClient().post(
        "/api/auth/login", {"email": "demo@veahome.local", "password": "demo1234"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    home = Home.objects.get(name="Demo Home")
    assert body["user"]["homeId"] == str(home.pk)
    devices = APIClient()
    devices.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    listed = devices.get(f"/api/homes/{home.pk}/devices").json()
    assert listed["count"] == 11


@pytest.mark.django_db
def test_support_agent_is_staff_in_the_support_group_without_superpowers():
    seed()
    agent = User.objects.get(email="support@veahome.local")
    assert agent.check_password("veahome-support")
    assert agent.is_staff and not agent.is_superuser
    assert agent.groups.filter(name=SUPPORT_GROUP).exists()
    assert agent.has_perm("homes.view_home") and agent.has_perm("devices.change_device")
    assert agent.has_perm("hubs.view_hub") and agent.has_perm("automations.view_automation")
    assert not agent.has_perm("homes.delete_home") and not agent.has_perm("auth.change_group")
