"""Serializers for hubs."""
from rest_framework import serializers

from homes.api.fields import InHomeField
from homes.models import Room
from hubs.models import Hub


class HubSerializer(serializers.ModelSerializer):
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


class HubStatusSerializer(serializers.ModelSerializer):
    hub_id = serializers.UUIDField(source="id")
    room_ids = serializers.SerializerMethodField()

    class Meta:
        model = Hub
        fields = ["hub_id", "status", "wifi_ssid", "wifi_connected", "last_seen_at", "firmware", "room_ids"]

    def get_room_ids(self, hub) -> list[str]:
        return [str(slot.room_id) for slot in hub.room_slots.all()]


class HubRoomsSerializer(serializers.Serializer):
    room_ids = serializers.ListField(child=InHomeField(Room), allow_empty=True, max_length=10)
