"""Devices, their commands and groups."""
from django.db import models

from homes.models import Home, Room
from homes.scoping import scoped_manager
from hubs.models import Hub
from veahome.models import BaseModel


class DeviceType(models.TextChoices):
    LIGHT = "light", "Light"
    THERMOSTAT = "thermostat", "Thermostat"
    TV = "tv", "TV"
    AC = "ac", "Air conditioner"
    BLIND = "blind", "Blind"
    SHUTTER = "shutter", "Shutter"
    LOCK = "lock", "Lock"
    CAMERA = "camera", "Camera"
    SPEAKER = "speaker", "Speaker"
    SENSOR = "sensor", "Sensor"


class DeviceCategory(models.TextChoices):
    IR = "IR", "Infrared"
    RF = "RF", "Radio frequency"
    RELAY = "Relay", "Relay"
    SENSOR = "Sensor", "Sensor"
    ZIGBEE = "Zigbee", "Zigbee"
    MATTER = "Matter", "Matter"
    WIFI = "WiFi", "Wi-Fi"


class Device(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="devices")
    # Composite foreign keys in the migration tie room and hub to this same home.
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="devices")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, null=True, blank=True, related_name="devices")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=16, choices=DeviceType.choices)
    category = models.CharField(max_length=16, choices=DeviceCategory.choices)
    is_active = models.BooleanField(default=False)
    value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    signal_mappings = models.JSONField(default=dict, blank=True, help_text='IR/RF signals: {"ON": "code", ...}')
    state = models.JSONField(default=dict, blank=True, help_text="Last state the device reported.")
    reported_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["home", "room"], name="device_home_room_idx"),
            models.Index(fields=["hub"], name="device_hub_idx"),
        ]

    def __str__(self):
        return self.name


class DeviceGroup(BaseModel):
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="device_groups")
    name = models.CharField(max_length=255)
    icon = models.CharField(max_length=100, blank=True)
    devices = models.ManyToManyField(Device, through="DeviceGroupMember", related_name="groups")

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.name


class DeviceGroupMember(models.Model):
    group = models.ForeignKey(DeviceGroup, on_delete=models.CASCADE, related_name="members")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="group_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "device"], name="group_member_unique")]
