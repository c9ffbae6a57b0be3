"""Serializers for devices and device groups."""
from django.utils.functional import cached_property
from rest_framework import serializers

from devices.models import Device, DeviceCategory, DeviceGroup, DeviceType
from homes.api.fields import InHomeField
from homes.models import Room
from hubs.models import Hub
from veahome.api import (
    ModelSerializer, StrictBooleanField, StrictCharField, StrictDecimalField, StrictFloatField, check_document_size,
)


class SignalMappingsField(serializers.DictField):
    """IR/RF signals by action name, e.g. {"ON": "0x20DF10EF"}."""

    def __init__(self, **kwargs):
        super().__init__(child=StrictCharField(max_length=4096), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        bad = [k for k in value if not (1 <= len(k) <= 64)]
        if bad:
            raise serializers.ValidationError("action names are 1 to 64 characters")
        check_document_size(value)
        return value


# Formatting only, unbound: the declared fields' output without building a serializer's field
# set, which costs more than formatting a whole page of devices.
_VALUE_FORMAT = StrictDecimalField(max_digits=10, decimal_places=2)
_TIMESTAMP_FORMAT = serializers.DateTimeField()


class DeviceSerializer(ModelSerializer):
    room_id = InHomeField(Room, source="room")
    hub_id = InHomeField(Hub, source="hub", required=False, allow_null=True)
    type = serializers.ChoiceField(choices=DeviceType.choices)
    category = serializers.ChoiceField(choices=DeviceCategory.choices)
    signal_mappings = SignalMappingsField(required=False)
    value = StrictDecimalField(max_digits=10, decimal_places=2, required=False, allow_null=True)

    class Meta:
        model = Device
        fields = [
            "id", "name", "type", "category", "room_id", "hub_id", "is_active", "value", "unit",
            "signal_mappings", "state", "reported_at", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "state", "reported_at", "created_at", "updated_at"]

    def to_representation(self, device):
        """The generic ModelSerializer output, written out field by field.

        A home's device list is the app's most frequent read (bench/rest_devices.py) and the
        generic path spends most of its time in per-field machinery. Value and timestamp
        formats come from DRF's own fields; tests/devices/test_serializers.py holds this equal
        to the generic path, rendered, for every kind of value.
        """
        value, mappings, hub_id = device.value, device.signal_mappings, device.hub_id
        timestamp = self._timestamp_format
        reported_at = device.reported_at
        return {
            "id": str(device.pk),
            "name": device.name,
            "type": device.type,
            "category": device.category,
            "room_id": str(device.room_id),
            "hub_id": None if hub_id is None else str(hub_id),
            "is_active": device.is_active,
            "value": None if value is None else _VALUE_FORMAT.to_representation(value),
            "unit": device.unit,
            "signal_mappings": None if mappings is None else {str(k): str(v) for k, v in mappings.items()},
            "state": device.state,
            "reported_at": None if reported_at is None else timestamp(reported_at),
            "created_at": timestamp(device.created_at),
            "updated_at": timestamp(device.updated_at),
        }

    @cached_property
    def _timestamp_format(self):
        """DRF's DateTimeField output, with the current timezone looked up once per serializer
        (one request) instead of once per value."""
        return serializers.DateTimeField(default_timezone=_TIMESTAMP_FORMAT.default_timezone()).to_representation


class DeviceUpdateSerializer(DeviceSerializer):
    """Type and category describe the hardware; they are fixed once the device exists."""

    class Meta(DeviceSerializer.Meta):
        read_only_fields = DeviceSerializer.Meta.read_only_fields + ["type", "category"]

    type = StrictCharField(read_only=True)
    category = StrictCharField(read_only=True)


class DeviceGroupSerializer(ModelSerializer):
    device_ids = serializers.ListField(
        child=InHomeField(Device), allow_empty=True, max_length=200, write_only=True
    )

    class Meta:
        model = DeviceGroup
        fields = ["id", "name", "icon", "device_ids", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_device_ids(self, devices):
        seen, duplicates = set(), []
        for device in devices:
            if device.pk in seen:
                duplicates.append(str(device.pk))
            seen.add(device.pk)
        if duplicates:
            raise serializers.ValidationError(f"listed twice: {', '.join(duplicates)}")
        return devices

    def to_representation(self, group):
        data = super().to_representation(group)
        data["device_ids"] = [str(m.device_id) for m in group.members.all()]
        return data


class ControlSerializer(serializers.Serializer):
    """`PUT .../control`: what to change; the device type decides what is allowed."""

    is_active = StrictBooleanField(required=False)
    value = StrictFloatField(required=False)

    def to_request(self) -> dict:
        data = self.validated_data
        request = {}
        if "is_active" in data:
            request["isActive"] = data["is_active"]
        if "value" in data:
            request["value"] = data["value"]
        return request


class ControlResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    device_id = serializers.UUIDField()
    command_id = serializers.UUIDField()
    status = serializers.CharField()
    desired_state = serializers.DictField()


SKIP_REASONS = ("device_deleted", "hub_offline", "not_controllable", "no_hub", "signal_not_learned", "not_supported")


class OutcomeSerializer(serializers.Serializer):
    """One device's part in a group control, a scene, a schedule or an automation run
    (devices.fanout): its command and the command's status now, or why it was skipped."""

    device_id = serializers.UUIDField(source="deviceId")
    command_id = serializers.UUIDField(source="commandId", allow_null=True)
    status = serializers.ChoiceField(
        choices=["pending", "sent", "confirmed", "assumed", "expired", "failed", "skipped"],
        help_text="The command's status, or `skipped`.")
    skipped = serializers.ChoiceField(choices=SKIP_REASONS, allow_null=True, help_text="Why nothing was sent.")
    message = serializers.CharField(allow_blank=True)


class GroupControlResultSerializer(serializers.Serializer):
    group_id = serializers.UUIDField()
    sent = serializers.IntegerField(help_text="Members a command went to.")
    skipped = serializers.IntegerField(help_text="Members that could not take it (see their outcomes).")
    outcomes = OutcomeSerializer(many=True)


class LearnSerializer(serializers.Serializer):
    action = StrictCharField(max_length=64)


class LearnSessionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField(source="pk")
    device_id = serializers.UUIDField()
    hub_id = serializers.UUIDField()
    action = serializers.CharField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
