"""Devices and device groups under a home."""
from homes.api.mixins import HomeScopedViewSet
from homes.scoping import Role

from devices import services
from devices.models import Device, DeviceGroup
from devices.selectors import groups_with_members

from .filters import DeviceFilter
from .serializers import DeviceGroupSerializer, DeviceSerializer, DeviceUpdateSerializer


class DeviceViewSet(HomeScopedViewSet):
    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    write_role = Role.ADMIN

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return DeviceUpdateSerializer
        return DeviceSerializer

    def perform_create(self, serializer):
        serializer.instance = services.device_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.device_update(device=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.device_delete(device=instance)


class DeviceGroupViewSet(HomeScopedViewSet):
    queryset = DeviceGroup.objects.all()
    serializer_class = DeviceGroupSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DeviceGroup.objects.none()
        return groups_with_members(self.home)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        devices = data.pop("device_ids")
        group = services.group_create(home=self.home, devices=devices, **data)
        serializer.instance = groups_with_members(self.home).get(pk=group.pk)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        devices = data.pop("device_ids", None)
        group = services.group_update(group=serializer.instance, devices=devices, **data)
        serializer.instance = groups_with_members(self.home).get(pk=group.pk)

    def perform_destroy(self, instance):
        services.group_delete(group=instance)
