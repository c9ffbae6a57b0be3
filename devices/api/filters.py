"""Query-string filters for device lists."""
from django_filters import rest_framework as filters

from devices.models import Device, DeviceCategory, DeviceType
from veahome.api import BooleanFilter, FilterSet


class DeviceFilter(FilterSet):
    """Query parameters are camelCase like the rest of the contract."""

    roomId = filters.UUIDFilter(field_name="room_id")
    hubId = filters.UUIDFilter(field_name="hub_id")
    type = filters.ChoiceFilter(choices=DeviceType.choices)
    category = filters.ChoiceFilter(choices=DeviceCategory.choices)
    isActive = BooleanFilter(field_name="is_active")

    class Meta:
        model = Device
        fields = []
