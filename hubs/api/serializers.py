"""Serializers for hubs."""
from rest_framework import serializers

from homes.api.fields import InHomeField
from homes.models import Room
from hubs.models import Hub
from veahome.api import ModelSerializer, StrictCharField, StrictUUIDField


class HubSerializer(ModelSerializer):
    room_ids = serializers.SerializerMethodField()

    class Meta:
        model = Hub
        fields = [
            "id", "name", "serial_number", "status", "wifi_ssid", "wifi_connected", "mqtt_topic",
            "last_seen_at", "firmware", "room_ids", "paired_at", "created_at", "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "name"]

    def get_room_ids(self, hub) -> list[str]:
        return [str(slot.room_id) for slot in hub.room_slots.all()]


class HubStatusSerializer(ModelSerializer):
    hub_id = serializers.UUIDField(source="id")
    room_ids = serializers.SerializerMethodField()

    class Meta:
        model = Hub
        fields = ["hub_id", "status", "wifi_ssid", "wifi_connected", "last_seen_at", "firmware", "room_ids"]

    def get_room_ids(self, hub) -> list[str]:
        return [str(slot.room_id) for slot in hub.room_slots.all()]


class HubPairResponseSerializer(HubSerializer):
    """The seed's `{hubId, status, mqttTopic}` beside the hub's other fields."""

    hub_id = serializers.UUIDField(source="id", read_only=True)

    class Meta(HubSerializer.Meta):
        fields = ["hub_id", *HubSerializer.Meta.fields]
        read_only_fields = fields


class HubWifiResponseSerializer(HubStatusSerializer):
    """The seed's `{message, status}` beside the hub's status fields."""

    message = serializers.SerializerMethodField()

    class Meta(HubStatusSerializer.Meta):
        fields = ["message", *HubStatusSerializer.Meta.fields]

    def get_message(self, hub) -> str:
        return "WiFi credentials sent to hub"


class HubRoomsSerializer(serializers.Serializer):
    room_ids = serializers.ListField(child=InHomeField(Room), allow_empty=True, max_length=10)


class HubPairSerializer(serializers.Serializer):
    qr_code = StrictCharField(max_length=100)
    home_id = StrictUUIDField()


class HubWifiSerializer(serializers.Serializer):
    ssid = StrictCharField(max_length=32)
    # Blank for an open network; WPA2 passphrases are 8-63 characters. Write-only, never echoed.
    password = StrictCharField(
        max_length=63, allow_blank=True, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )

    def validate_password(self, value: str) -> str:
        if value and len(value) < 8:
            raise serializers.ValidationError("A Wi-Fi password has 8 to 63 characters (or none for an open network).")
        return value


class HubProvisionSerializer(serializers.Serializer):
    serial = StrictCharField(max_length=64)
    factory_secret = StrictCharField(max_length=256, trim_whitespace=False, write_only=True)


class HubClaimWindowSerializer(serializers.Serializer):
    hub_id = serializers.UUIDField()
    claim_window_until = serializers.DateTimeField()


class MqttCredentialsSerializer(serializers.Serializer):
    host = StrictCharField()
    port = serializers.IntegerField()
    tls = serializers.BooleanField()
    username = StrictCharField()
    password = StrictCharField()
    client_id = StrictCharField()
    topic_root = StrictCharField()


class HubProvisionResponseSerializer(serializers.Serializer):
    hub_id = serializers.UUIDField()
    mqtt = MqttCredentialsSerializer()
