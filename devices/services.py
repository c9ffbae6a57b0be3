"""Every write to devices and device groups."""
from django.db import transaction

from homes.models import Home
from realtime import publish

from .models import Device, DeviceGroup, DeviceGroupMember


def device_event(device: Device) -> dict:
    return {
        "deviceId": str(device.pk),
        "roomId": str(device.room_id),
        "hubId": str(device.hub_id) if device.hub_id else None,
        "name": device.name,
        "type": device.type,
        "category": device.category,
        "state": {
            **(device.state or {}),
            "isActive": device.is_active,
            "value": float(device.value) if device.value is not None else None,
        },
    }


@transaction.atomic
def device_create(*, home: Home, **fields) -> Device:
    device = Device.objects.create(home=home, **fields)
    publish(home.pk, "device:created", device_event(device))
    return device


@transaction.atomic
def device_update(*, device: Device, **fields) -> Device:
    before = (device.is_active, device.value)
    for key, value in fields.items():
        setattr(device, key, value)
    device.save()
    if (device.is_active, device.value) != before:
        from energy.services import record_state_change

        record_state_change(device=device, state=_history_state(device))
    publish(device.home_id, "device:update", device_event(device))
    return device


def _history_state(device: Device) -> dict:
    state = {"isActive": device.is_active}
    if device.value is not None:
        state["value"] = float(device.value)
    return state


@transaction.atomic
def device_delete(*, device: Device) -> None:
    home_id, data = device.home_id, {"deviceId": str(device.pk)}
    device.delete()
    publish(home_id, "device:deleted", data)


def _set_members(group: DeviceGroup, devices: list[Device]) -> None:
    DeviceGroupMember.objects.filter(group=group).delete()
    DeviceGroupMember.objects.bulk_create([DeviceGroupMember(group=group, device=d) for d in devices])


def _group_event(group: DeviceGroup, devices: list[Device] | None) -> dict:
    data = {"groupId": str(group.pk), "name": group.name}
    if devices is not None:
        data["deviceIds"] = [str(d.pk) for d in devices]
    return data


@transaction.atomic
def group_create(*, home: Home, name: str, devices: list[Device], icon: str = "") -> DeviceGroup:
    group = DeviceGroup.objects.create(home=home, name=name, icon=icon)
    _set_members(group, devices)
    publish(home.pk, "group:created", _group_event(group, devices))
    return group


@transaction.atomic
def group_update(*, group: DeviceGroup, devices: list[Device] | None = None, **fields) -> DeviceGroup:
    for key, value in fields.items():
        setattr(group, key, value)
    group.save()
    if devices is not None:
        _set_members(group, devices)
    publish(group.home_id, "group:update", _group_event(group, devices))
    return group


@transaction.atomic
def group_delete(*, group: DeviceGroup) -> None:
    home_id, data = group.home_id, {"groupId": str(group.pk)}
    group.delete()
    publish(home_id, "group:deleted", data)
