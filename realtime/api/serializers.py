"""Serializers for the home snapshot."""
from rest_framework import serializers

from devices.api.serializers import DeviceSerializer
from homes.api.serializers import HomeSerializer, RoomSerializer
from hubs.api.serializers import HubSerializer


class SnapshotSerializer(serializers.Serializer):
    last_event_id = serializers.IntegerField(help_text="Subscribe with this as lastEventId to miss nothing.")
    home = HomeSerializer()
    rooms = RoomSerializer(many=True)
    hubs = HubSerializer(many=True)
    devices = DeviceSerializer(many=True)
    online = serializers.ListField(child=serializers.UUIDField(), help_text="Ids of members connected now.")
