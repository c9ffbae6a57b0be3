"""Build a fleet of simulated hubs from the database: demo hubs and devices created on
request, broker credentials from provisioning when the broker has per-hub accounts."""
import logging
import secrets

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction

from devices.models import Device
from homes import services as home_services
from homes.models import Home, Room, User
from hubs.models import Hub
from hubs.mqtt.publisher import broker_params

from .behaviour import SimDevice
from .hub import Connection, SimulatedHub

logger = logging.getLogger(__name__)

# A spread of device kinds, cycled through when a simulated hub gets its devices.
DEVICE_MIX = [
    ("light", "Zigbee", "Ceiling light"), ("light", "Zigbee", "Lamp"), ("thermostat", "WiFi", "Thermostat"),
    ("sensor", "Sensor", "Climate sensor"), ("blind", "Zigbee", "Blind"), ("lock", "Matter", "Door lock"),
    ("speaker", "WiFi", "Speaker"), ("camera", "WiFi", "Camera"), ("shutter", "Relay", "Shutter"),
    ("tv", "IR", "TV"), ("ac", "IR", "Air conditioner"),
]
IR_SIGNALS = {"ON": "0x20DF10EF", "OFF": "0x20DF906F", "TEMP_UP": "0x88089090", "TEMP_DOWN": "0x880890A0",
              "VOL_UP": "0x20DF40BF", "VOL_DOWN": "0x20DFC03F"}


@transaction.atomic
def ensure_demo_hubs(*, owner_email: str, hubs: int, devices: int) -> list[Hub]:
    """`hubs` simulated hubs (serials SIM-0001...) with `devices` devices each in the owner's
    "Simulated home"; existing ones are reused, so running twice changes nothing."""
    owner = User.objects.filter(email__iexact=owner_email).first()
    if owner is None:
        owner = User.objects.create_user(email=owner_email, password=secrets.token_urlsafe(16), name="Simulator")
        logger.info("created user %s (set a password to log in as it)", owner_email)
    home = Home.objects.filter(owner=owner, name="Simulated home").first()
    if home is None:
        home = home_services.home_create(owner=owner, name="Simulated home")
    result = []
    for index in range(1, hubs + 1):
        hub, _ = Hub.objects.get_or_create(
            serial_number=f"SIM-{index:04d}",
            defaults={"home": home, "name": f"Simulated hub {index}", "status": Hub.Status.OFFLINE},
        )
        room, _ = Room.objects.get_or_create(home=hub.home, name=f"Sim room {index}")
        have = Device.objects.filter(hub=hub).count()
        for n in range(have, devices):
            kind, category, name = DEVICE_MIX[n % len(DEVICE_MIX)]
            Device.objects.create(home=hub.home, room=room, hub=hub, name=f"{name} {index}.{n + 1}", type=kind,
                                  category=category, value=_initial_value(kind),
                                  signal_mappings=IR_SIGNALS if category == "IR" else {})
        result.append(hub)
    return result


def _initial_value(kind: str):
    return {"light": 60, "thermostat": 21, "ac": 24, "blind": 100, "shutter": 0, "speaker": 20, "tv": 15}.get(kind)


def connection_for(hub: Hub, url: str | None = None) -> Connection:
    """Credentials the hub would get from provisioning; anonymous against a plain broker."""
    params = broker_params(url or getattr(settings, "MQTT_PUBLIC_URL", "") or settings.MQTT_URL)
    connection = Connection(params["host"], params["port"], tls=params["tls"])
    if getattr(settings, "MQTT_ADMIN_URL", ""):
        from hubs import services as hub_services

        # The simulator plays the factory too: it sets the secret it then provisions with.
        secret = secrets.token_urlsafe(24)
        Hub.objects.filter(pk=hub.pk).update(factory_secret_hash=make_password(secret))
        hub, password = hub_services.hub_provision(serial=hub.serial_number, factory_secret=secret)
        connection.username, connection.password = hub.broker_username, password
    return connection


def build(hubs: list[Hub], *, answer_rate: float, url: str | None = None) -> list[SimulatedHub]:
    fleet = []
    for hub in hubs:
        devices = [SimDevice(id=str(d.pk), type=d.type, category=d.category, is_active=d.is_active,
                             value=float(d.value) if d.value is not None else None)
                   for d in Device.objects.filter(hub=hub)]
        fleet.append(SimulatedHub(hub_id=str(hub.pk), devices=devices, connection=connection_for(hub, url),
                                  answer_rate=answer_rate))
    return fleet
