"""Hubs and their room slots (a hub serves at most two rooms of its own home)."""
from django.db import models

from homes.models import Home, Room
from homes.scoping import scoped_manager
from veahome.models import BaseModel


class Hub(BaseModel):
    class Status(models.TextChoices):
        UNPAIRED = "unpaired", "Unpaired"
        PAIRING = "pairing", "Pairing"
        CONNECTING = "connecting", "Connecting"
        ONLINE = "online", "Online"
        OFFLINE = "offline", "Offline"

    home = models.ForeignKey(Home, on_delete=models.SET_NULL, null=True, blank=True, related_name="hubs")
    serial_number = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNPAIRED)
    wifi_ssid = models.CharField(max_length=64, blank=True)
    wifi_connected = models.BooleanField(default=False)
    mqtt_topic = models.CharField(max_length=255, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    firmware = models.CharField(max_length=64, blank=True)
    # Set by the manufacturing import; only a hash is kept.
    factory_secret_hash = models.CharField(max_length=255, blank=True)
    # Proof of possession for pairing (docs/mqtt.md, "Pairing"): the hash of the claim code
    # printed in the box's QR code, and the end of a claim window the hub opened itself.
    claim_code_hash = models.CharField(max_length=255, blank=True)
    claim_window_until = models.DateTimeField(null=True, blank=True)
    paired_at = models.DateTimeField(null=True, blank=True)
    # The hub's broker account (Mosquitto dynamic security). The broker keeps the only
    # password hash; an empty username means no account exists to revoke.
    broker_username = models.CharField(max_length=64, blank=True)
    credentials_rotated_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["id", "home"], name="hub_id_home_unique")]
        indexes = [models.Index(fields=["status", "last_seen_at"], name="hub_status_seen_idx")]

    def __str__(self):
        return self.name or self.serial_number


class HubRoom(BaseModel):
    """One of a hub's two room slots. `home` repeats the hub's home so that composite
    foreign keys (see the migration) make the database refuse a room of another home."""

    SLOTS = (1, 2)

    hub = models.ForeignKey(Hub, on_delete=models.CASCADE, related_name="room_slots")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="hub_slots")
    home = models.ForeignKey(Home, on_delete=models.CASCADE, related_name="+")
    slot = models.PositiveSmallIntegerField()

    objects = scoped_manager()

    class Meta:
        ordering = ["slot"]
        constraints = [
            models.CheckConstraint(condition=models.Q(slot__in=(1, 2)), name="hubroom_slot_1_or_2"),
            models.UniqueConstraint(fields=["hub", "slot"], name="hubroom_hub_slot_unique"),
            models.UniqueConstraint(fields=["hub", "room"], name="hubroom_hub_room_unique"),
        ]

    def __str__(self):
        return f"{self.hub} slot {self.slot}: {self.room}"
