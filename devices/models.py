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
    # Newest telemetry sample taken; older or equal timestamps are redeliveries.
    telemetry_at = models.DateTimeField(null=True, blank=True)

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


class Command(BaseModel):
    """One control request on its way to a device: what was asked and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"  # recorded, not yet accepted by the broker
        SENT = "sent", "Sent"  # the broker has it (PUBACK); waiting for the hub's report
        CONFIRMED = "confirmed", "Confirmed"  # a state report carried this command's id
        ASSUMED = "assumed", "Assumed"  # sent to a device that never reports (IR/RF)
        EXPIRED = "expired", "Expired"  # no confirmation within COMMAND_TIMEOUT_SECONDS
        FAILED = "failed", "Failed"  # the broker could not be reached

    OPEN = (Status.PENDING, Status.SENT)

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="commands")
    # Found by device through command_device_idx (device first): no second index to keep up.
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="commands", db_index=False)
    hub = models.ForeignKey(Hub, on_delete=models.SET_NULL, null=True, blank=True, related_name="commands")
    actor = models.ForeignKey("homes.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What sent it besides a person: "automation:<id>", "schedule:<id>" (blank for a tap). The
    # state its device then reports carries it, so an automation knows its own doing.
    origin = models.CharField(max_length=64, blank=True, default="")
    desired_state = models.JSONField(default=dict)
    payload = models.JSONField(default=dict, help_text="What went to the hub (signals included).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reported_state = models.JSONField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["device", "-created_at"], name="command_device_idx"),
            # The expiry sweep looks only at open commands.
            models.Index(fields=["created_at"], name="command_open_idx",
                         condition=models.Q(status__in=["pending", "sent"])),
        ]

    def __str__(self):
        return f"{self.device_id} {self.status}"


class LearnSession(BaseModel):
    """A hub listening for a remote's button so an IR/RF action gets its signal."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        LEARNED = "learned", "Learned"
        EXPIRED = "expired", "Expired"
        FAILED = "failed", "Failed"

    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="learn_sessions")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="learn_sessions")
    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="learn_sessions")
    actor = models.ForeignKey("homes.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["expires_at"], name="learn_open_idx", condition=models.Q(status="open")),
        ]

    def __str__(self):
        return f"{self.device_id} {self.action} {self.status}"
