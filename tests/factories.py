"""Factories for domain objects (through the services where a write has side rules)."""
import factory

from automations.models import Scene, Schedule
from devices.models import Device, DeviceGroup, DeviceGroupMember
from homes import services as home_services
from homes.models import Membership, Room, User
from hubs.models import Hub, HubRoom

PASSWORD = "password123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_home(owner=None, **fields):
    owner = owner or UserFactory()
    return home_services.home_create(owner=owner, name=fields.pop("name", "Test home"), **fields)


def add_member(home, user=None, role="member"):
    user = user or UserFactory()
    Membership.objects.create(home=home, user=user, role=role)
    return user


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    name = factory.Sequence(lambda n: f"Room {n}")


class HubFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hub

    serial_number = factory.Sequence(lambda n: f"VH{n:08d}")
    name = factory.Sequence(lambda n: f"Hub {n}")
    status = Hub.Status.ONLINE


FACTORY_SECRET = "factory-secret-0123456789"


def claimable(hub: Hub, secret: str = FACTORY_SECRET) -> Hub:
    """Give a hub what the manufacturing import gives it: a factory secret and the claim code
    of its QR code (both stored hashed)."""
    from django.contrib.auth.hashers import make_password

    from hubs.services import claim_code

    hub.factory_secret_hash, hub.claim_code_hash = make_password(secret), make_password(claim_code(secret))
    hub.save(update_fields=["factory_secret_hash", "claim_code_hash"])
    return hub


def hub_qr(hub: Hub, secret: str = FACTORY_SECRET) -> str:
    """The QR code printed on the hub's box."""
    from hubs.services import claim_code

    return f"VEAHUB-{hub.serial_number}.{claim_code(secret)}"


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    name = factory.Sequence(lambda n: f"Device {n}")
    type = "light"
    category = "Zigbee"
    home = factory.LazyAttribute(lambda o: o.room.home)


def make_group(home, devices, name="Group"):
    group = DeviceGroup.objects.create(home=home, name=name)
    DeviceGroupMember.objects.bulk_create([DeviceGroupMember(group=group, device=d) for d in devices])
    return group


def make_scene(home, devices, name="Scene"):
    return Scene.objects.create(
        home=home, name=name, device_states={str(d.pk): {"isActive": True} for d in devices}
    )


def make_schedule(home, scene, name="Schedule"):
    return Schedule.objects.create(
        home=home, name=name, time="07:00", days=["monday"], actions=[{"type": "scene", "sceneId": str(scene.pk)}]
    )


def make_automation(home, device, name="Automation"):
    from automations import services

    return services.automation_create(
        home=home,
        name=name,
        trigger={"type": "device", "deviceId": str(device.pk), "attribute": "isActive", "equals": True},
        actions=[{"type": "device", "deviceId": str(device.pk), "state": {"isActive": False}}],
    )


def assign_rooms(hub, rooms):
    for slot, room in enumerate(rooms, start=1):
        HubRoom.objects.create(hub=hub, room=room, home=hub.home, slot=slot)
