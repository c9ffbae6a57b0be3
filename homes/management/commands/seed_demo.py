"""`manage.py seed_demo`: a furnished demo home and a support agent; running it again changes nothing."""
import datetime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from automations import services as automation_services
from automations.engine.registry import HomeContext, validate_actions, validate_conditions, validate_trigger
from automations.models import Automation, Scene, Schedule
from devices import services as device_services
from devices.models import Device, DeviceGroup
from homes import services as home_services
from homes.models import Home, Membership, Room, User
from homes.scoping import Role
from homes.support import support_group_sync
from hubs import services as hub_services
from hubs.models import Hub

DEMO_EMAIL, DEMO_PASSWORD, DEMO_NAME = "demo@veahome.local", "demo1234", "Demo User"
PARTNER_EMAIL, PARTNER_NAME = "alex@veahome.local", "Alex Demo"
SUPPORT_EMAIL, SUPPORT_PASSWORD, SUPPORT_NAME = "support@veahome.local", "veahome-support", "Support Agent"
HOME_NAME, HOME_TIMEZONE = "Demo Home", "Europe/Madrid"
HUB_SERIAL = "VH-DEMO-0001"
ROOMS = ["Living room", "Bedroom", "Kitchen", "Hallway"]
HUB_ROOMS = ["Living room", "Bedroom"]  # a hub serves at most two rooms

TV_SIGNALS = {"ON": "0x20DF10EF", "OFF": "0x20DF10EF", "VOL_UP": "0x20DF40BF", "VOL_DOWN": "0x20DFC03F",
              "CH_UP": "0x20DF00FF", "CH_DOWN": "0x20DF807F"}
AC_SIGNALS = {"ON": "0x8808440C", "OFF": "0x88C0051", "TEMP_UP": "0x8808909", "TEMP_DOWN": "0x880890A",
              "MODE": "0x880800B"}
COVER_SIGNALS = {"UP": "0xA1B2C301", "DOWN": "0xA1B2C302", "STOP": "0xA1B2C303"}

# name, room, type, category, served by the hub, extra fields
DEVICES = [
    ("Ceiling light", "Living room", "light", "Zigbee", True, {"is_active": True, "value": 80, "unit": "%"}),
    ("Floor lamp", "Living room", "light", "Zigbee", True, {"value": 40, "unit": "%"}),
    ("TV", "Living room", "tv", "IR", True, {"signal_mappings": TV_SIGNALS}),
    ("Speaker", "Living room", "speaker", "WiFi", False, {"value": 25, "unit": "%"}),
    ("Air conditioner", "Bedroom", "ac", "IR", True, {"value": 24, "unit": "°C", "signal_mappings": AC_SIGNALS}),
    ("Blind", "Bedroom", "blind", "RF", True, {"value": 100, "unit": "%", "signal_mappings": COVER_SIGNALS}),
    ("Shutter", "Bedroom", "shutter", "RF", True, {"value": 0, "unit": "%", "signal_mappings": COVER_SIGNALS}),
    ("Thermostat", "Kitchen", "thermostat", "WiFi", False, {"is_active": True, "value": 21, "unit": "°C"}),
    ("Temperature sensor", "Kitchen", "sensor", "Sensor", False, {"is_active": True, "value": 22.5, "unit": "°C"}),
    ("Front door lock", "Hallway", "lock", "Matter", False, {"is_active": True}),
    ("Entrance camera", "Hallway", "camera", "WiFi", False, {"is_active": True}),
]


class Command(BaseCommand):
    help = "Create the demo account, its furnished home and the support agent (idempotent)."

    def handle(self, *args, **options):
        created = seed_demo()
        summary = ", ".join(f"{n} {what}" for what, n in created.items() if n) or "nothing new"
        self.stdout.write(f"seed_demo: {summary}")


def _user(email: str, password: str, name: str, created: dict, **extra) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, name=name, **extra)
        created["users"] += 1
    return user


def _seed_home(owner: User, created: dict) -> Home:
    home = Home.objects.filter(owner=owner, name=HOME_NAME).first()
    if home is None:
        # A registration made "My Home"; the demo's home is a second, furnished one.
        home = home_services.home_create(owner=owner, name=HOME_NAME, timezone=HOME_TIMEZONE,
                                         address="Calle Mayor 1, Madrid")
        created["homes"] += 1
    return home


def _seed_rooms(home: Home, created: dict) -> dict[str, Room]:
    rooms = {r.name: r for r in Room.objects.in_home(home)}
    for name in ROOMS:
        if name not in rooms:
            rooms[name] = home_services.room_create(home=home, name=name)
            created["rooms"] += 1
    return rooms


def _seed_hub(home: Home, rooms: dict[str, Room], created: dict) -> Hub:
    hub = Hub.objects.filter(serial_number=HUB_SERIAL).first()
    if hub is None:
        # Stands in for pairing: the demo has no physical hub to go through hub/pair.
        now = timezone.now()
        hub = Hub.objects.create(
            home=home, serial_number=HUB_SERIAL, name="Demo hub", status=Hub.Status.OFFLINE,
            wifi_ssid="VeaHome-Demo", firmware="1.0.0", paired_at=now,
        )
        created["hubs"] += 1
    if sorted(s.room.name for s in hub.room_slots.select_related("room")) != sorted(HUB_ROOMS):
        hub_services.hub_rooms_assign(hub=hub, rooms=[rooms[name] for name in HUB_ROOMS])
    return hub


def _seed_devices(home: Home, rooms: dict[str, Room], hub: Hub, created: dict) -> dict[str, Device]:
    devices = {d.name: d for d in Device.objects.in_home(home)}
    for name, room, kind, category, on_hub, extra in DEVICES:
        if name not in devices:
            devices[name] = device_services.device_create(
                home=home, room=rooms[room], hub=hub if on_hub else None, name=name, type=kind,
                category=category, **extra,
            )
            created["devices"] += 1
    return devices


def _seed_groups(home: Home, devices: dict[str, Device], created: dict) -> dict[str, DeviceGroup]:
    wanted = {
        "Living room lights": ("lightbulb", ["Ceiling light", "Floor lamp"]),
        "Bedroom covers": ("blinds", ["Blind", "Shutter"]),
    }
    groups = {g.name: g for g in DeviceGroup.objects.in_home(home)}
    for name, (icon, members) in wanted.items():
        if name not in groups:
            groups[name] = device_services.group_create(
                home=home, name=name, icon=icon, devices=[devices[m] for m in members]
            )
            created["groups"] += 1
    return groups


def _seed_scenes(home: Home, devices: dict[str, Device], created: dict) -> dict[str, Scene]:
    def ids(states: dict) -> dict:
        return {str(devices[name].pk): state for name, state in states.items()}

    wanted = {
        "Movie night": ("movie", "Dim lights, TV on, covers down.", {
            "Ceiling light": {"isActive": True, "value": 15}, "Floor lamp": {"isActive": False},
            "TV": {"isActive": True}, "Blind": {"position": 0},
        }),
        "Good night": ("moon", "Everything off, door locked.", {
            "Ceiling light": {"isActive": False}, "Floor lamp": {"isActive": False}, "TV": {"isActive": False},
            "Speaker": {"isActive": False}, "Front door lock": {"isActive": True},
        }),
    }
    scenes = {s.name: s for s in Scene.objects.in_home(home)}
    for name, (icon, description, states) in wanted.items():
        if name not in scenes:
            scenes[name] = automation_services.scene_create(
                home=home, name=name, icon=icon, description=description, device_states=ids(states)
            )
            created["scenes"] += 1
    return scenes


def _seed_schedules(home: Home, scenes: dict, groups: dict, created: dict) -> None:
    ctx = HomeContext(home)
    weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"]
    wanted = {
        "Open the covers": (datetime.time(7, 30), weekdays, [
            {"type": "group", "groupId": str(groups["Bedroom covers"].pk), "state": {"position": 100}},
        ]),
        "Good night": (datetime.time(23, 30), weekdays + ["saturday", "sunday"], [
            {"type": "scene", "sceneId": str(scenes["Good night"].pk)},
        ]),
    }
    existing = set(Schedule.objects.in_home(home).values_list("name", flat=True))
    for name, (at, days, actions) in wanted.items():
        if name not in existing:
            automation_services.schedule_create(
                home=home, name=name, time=at, days=days, actions=validate_actions(actions, ctx)
            )
            created["schedules"] += 1


def _seed_automations(home: Home, devices: dict, groups: dict, created: dict) -> None:
    ctx = HomeContext(home)
    sensor, ac, lock = (str(devices[n].pk) for n in ("Temperature sensor", "Air conditioner", "Front door lock"))
    wanted = {
        "Cool down when it is hot": (
            {"type": "sensor", "deviceId": sensor, "field": "temperature", "above": 27},
            [{"type": "time_window", "after": "10:00", "before": "22:00"}],
            [{"type": "device", "deviceId": ac, "state": {"isActive": True, "value": 24, "mode": "cool"}},
             {"type": "notify", "message": "It is hot: the air conditioner is on."}],
        ),
        "Welcome home": (
            {"type": "device", "deviceId": lock, "attribute": "isActive", "equals": False},
            [{"type": "time_window", "after": "18:00", "before": "23:59"}],
            [{"type": "group", "groupId": str(groups["Living room lights"].pk), "state": {"isActive": True}}],
        ),
    }
    existing = set(Automation.objects.in_home(home).values_list("name", flat=True))
    for name, (trigger, conditions, actions) in wanted.items():
        if name not in existing:
            automation_services.automation_create(
                home=home, name=name, trigger=validate_trigger(trigger, ctx),
                conditions=validate_conditions(conditions, ctx), actions=validate_actions(actions, ctx),
            )
            created["automations"] += 1


def _seed_alerts(home: Home, hub: Hub, devices: dict, owner: User, created: dict) -> None:
    """A home's own threshold, and three alerts in different states, so the app, the ops API
    and the admin show something: one open, one acknowledged, one resolved by itself."""
    from alerts import services as alert_services
    from alerts.models import Alert

    if Alert.objects.filter(home=home).exists():
        return
    alert_services.contact_create(home=home, name=owner.name, email=owner.email, tier=1)
    alert_services.contact_create(home=home, name="Neighbour", email="neighbour@veahome.local", phone="+34600000001",
                                  tier=2)
    alert_services.policy_update(home=home, quiet_start=datetime.time(23, 0), quiet_end=datetime.time(7, 0),
                                 escalate_after_minutes=15)
    alert_services.alert_rule_update(home=home, kind="temperature_high", params={"above": 30, "clear_below": 28})
    now = timezone.now()
    Signal = alert_services.Signal
    lock, sensor = devices["Front door lock"], devices["Temperature sensor"]
    rows = alert_services.alerts_raise([
        Signal(home_id=home.pk, source="device", source_id=lock.pk, kind="battery_low", severity="warning",
               title=f"{lock.name}: battery at 9 %", seen=now, data={"field": "battery", "value": 9.0}),
        Signal(home_id=home.pk, source="device", source_id=sensor.pk, kind="temperature_high", severity="warning",
               title=f"{sensor.name}: 31.5 °C", seen=now - datetime.timedelta(minutes=40),
               data={"field": "temperature", "value": 31.5}),
        Signal(home_id=home.pk, source="hub", source_id=hub.pk, kind="hub_offline", severity="warning",
               title=f"Hub {hub.name} is offline", seen=now - datetime.timedelta(hours=3)),
    ])
    by_kind = {row["kind"]: row["id"] for row in rows}
    alert_services.alert_step(alert=Alert.objects.get(pk=by_kind["temperature_high"]), step="acknowledge",
                              actor=owner)
    alert_services.alerts_resolve([(home.pk, f"hub:{hub.pk}:hub_offline",
                                    f"the hub came back online at {(now - datetime.timedelta(hours=2)).isoformat()}")])
    created["alerts"] += 3


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create whatever part of the demo is missing; returns how many of each were created."""
    created = {k: 0 for k in ("users", "homes", "rooms", "hubs", "devices", "groups", "scenes", "schedules",
                              "automations", "members", "alerts")}
    owner = _user(DEMO_EMAIL, DEMO_PASSWORD, DEMO_NAME, created)
    partner = _user(PARTNER_EMAIL, DEMO_PASSWORD, PARTNER_NAME, created)
    home = _seed_home(owner, created)
    if not Membership.objects.filter(home=home, user=partner).exists():
        home_services.membership_grant(home=home, user=partner, role=Role.MEMBER)
        created["members"] += 1
    rooms = _seed_rooms(home, created)
    hub = _seed_hub(home, rooms, created)
    devices = _seed_devices(home, rooms, hub, created)
    groups = _seed_groups(home, devices, created)
    scenes = _seed_scenes(home, devices, created)
    _seed_schedules(home, scenes, groups, created)
    _seed_automations(home, devices, groups, created)
    _seed_alerts(home, hub, devices, owner, created)

    support = _user(SUPPORT_EMAIL, SUPPORT_PASSWORD, SUPPORT_NAME, created, is_staff=True)
    group = support_group_sync()
    if not support.groups.filter(pk=group.pk).exists():
        support.groups.add(group)
    return created
