"""Reads for devices and groups."""
from django.db.models import Prefetch, QuerySet

from homes.models import Home

from .models import Device, DeviceGroup, DeviceGroupMember


def groups_with_members(home: Home) -> QuerySet[DeviceGroup]:
    return DeviceGroup.objects.in_home(home).prefetch_related(
        Prefetch("members", queryset=DeviceGroupMember.objects.only("id", "group_id", "device_id").order_by("id"))
    )


def devices_by_id(home: Home, ids) -> dict:
    return {str(d.pk): d for d in Device.objects.in_home(home).filter(pk__in=list(ids))}
