"""Devices and device groups under a home; device control and IR/RF learning."""
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.decorators import action
from rest_framework.response import Response

from devices import fanout, services
from devices.errors import DeviceError
from devices.models import Device, DeviceGroup
from devices.selectors import groups_with_members
from homes.api.mixins import HomeScopedViewSet, parse_uuid
from homes.scoping import Role
from hubs.api.views import HubScopedMixin
from homes.errors import HomeError
from hubs.errors import HubError
from hubs.models import Hub
from veahome.prepared import PreparedSelect

from .filters import DeviceFilter
from .serializers import (
    ControlResultSerializer,
    ControlSerializer,
    DeviceGroupSerializer,
    GroupControlResultSerializer,
    DeviceSerializer,
    DeviceUpdateSerializer,
    LearnSerializer,
    LearnSessionSerializer,
)


class DeviceViewSet(HomeScopedViewSet):
    error_codes = {
        "create": [HomeError.HOME_LIMIT],
        "control": [DeviceError.NOT_CONTROLLABLE, DeviceError.NO_HUB, DeviceError.SIGNAL_NOT_LEARNED, HubError.UNREACHABLE],
    }

    queryset = Device.objects.all()
    serializer_class = DeviceSerializer
    filterset_class = DeviceFilter
    write_role = Role.ADMIN
    prepared_list = PreparedSelect(Device, "home")
    # Using devices is a member's right; changing what devices exist is an admin's.
    action_roles = {"control": Role.MEMBER}

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return DeviceUpdateSerializer
        if self.action == "control":
            return ControlSerializer
        return DeviceSerializer

    @extend_schema(request=ControlSerializer, responses={200: ControlResultSerializer})
    @action(detail=True, methods=["put"])
    def control(self, request, *args, **kwargs):
        device = self.get_object()
        serializer = ControlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        command = services.device_control(device=device, request=serializer.to_request(), actor=request.user)
        return Response(ControlResultSerializer({
            "message": "Device control command sent", "device_id": device.pk, "command_id": command.pk,
            "status": command.status, "desired_state": command.desired_state,
        }).data)

    def perform_create(self, serializer):
        serializer.instance = services.device_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.device_update(device=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.device_delete(device=instance)


class DeviceGroupViewSet(HomeScopedViewSet):
    error_codes = {"create": [HomeError.HOME_LIMIT]}

    queryset = DeviceGroup.objects.all()
    serializer_class = DeviceGroupSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DeviceGroup.objects.none()
        if self.action == "control":
            return DeviceGroup.objects.in_home(self.home)
        return groups_with_members(self.home)

    def get_serializer_class(self):
        return ControlSerializer if self.action == "control" else DeviceGroupSerializer

    @extend_schema(request=ControlSerializer, responses={200: GroupControlResultSerializer})
    @action(detail=True, methods=["put"])
    def control(self, request, *args, **kwargs):
        """The device-control body for every member: the members that cannot take it are
        listed with the reason, the others are sent their command."""
        group = self.get_object()
        serializer = ControlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        control = serializer.to_request()
        if not control:
            raise exceptions.ValidationError({"isActive": ["isActive or value is required"]})
        outcomes = fanout.group_control(group=group, request=control, actor=request.user)
        shown = fanout.with_status(outcomes, fanout.command_statuses([outcomes]))
        skipped = sum(1 for o in outcomes if o["skipped"])
        return Response(GroupControlResultSerializer({
            "group_id": group.pk, "sent": len(outcomes) - skipped, "skipped": skipped, "outcomes": shown}).data)

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


class LearnView(HubScopedMixin, generics.GenericAPIView):
    """`POST hubs/{hubId}/devices/{deviceId}/learn`: the hub listens for one remote button."""

    error_codes = {"post": [DeviceError.NOT_LEARNABLE, HubError.UNREACHABLE]}

    hub_url_kwarg = "hub_id"
    write_role = Role.MEMBER
    serializer_class = LearnSerializer
    queryset = Device.objects.all()

    @extend_schema(request=LearnSerializer, responses={201: LearnSessionSerializer})
    def post(self, request, hub_id=None, device_id=None):
        hub = Hub.objects.in_home(self.home).get(pk=parse_uuid(hub_id))
        device = Device.objects.in_home(self.home).filter(pk=parse_uuid(device_id), hub=hub).first()
        if device is None:
            raise exceptions.NotFound()
        serializer = LearnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.learn_start(device=device, hub=hub, action=serializer.validated_data["action"],
                                       actor=request.user)
        return Response(LearnSessionSerializer(session).data, status=status.HTTP_201_CREATED)
