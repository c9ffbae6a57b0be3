"""Hubs: the home's list, a hub's detail and status, its room slots."""
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from homes.api.mixins import HomeScopedMixin, parse_uuid
from homes.scoping import Role
from hubs import services
from hubs.models import Hub, HubRoom
from rest_framework import exceptions

from .serializers import HubRoomsSerializer, HubSerializer, HubStatusSerializer


def hubs_with_slots():
    return Hub.objects.prefetch_related(Prefetch("room_slots", queryset=HubRoom.objects.order_by("slot")))


class HomeHubViewSet(HomeScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """`homes/{homeId}/hubs`."""

    queryset = hubs_with_slots()
    serializer_class = HubSerializer


class HubScopedMixin(HomeScopedMixin):
    """For `hubs/{hubId}/...`: the hub is found through the user's homes (404 otherwise)."""

    hub_url_kwarg = "pk"

    def get_home_id(self):
        hub_id = parse_uuid(self.kwargs.get(self.hub_url_kwarg))
        home_id = Hub.objects.visible_to(self.request.user).filter(pk=hub_id).values_list("home_id", flat=True).first()
        if home_id is None:
            raise exceptions.NotFound()
        return home_id


class HubViewSet(HubScopedMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """`hubs/{hubId}`, `hubs/{hubId}/status`, `hubs/{hubId}/rooms`."""

    queryset = hubs_with_slots()
    serializer_class = HubSerializer
    write_role = Role.ADMIN

    def perform_update(self, serializer):
        serializer.instance = services.hub_update(hub=serializer.instance, **serializer.validated_data)

    @extend_schema(responses={200: HubStatusSerializer})
    @action(detail=True, methods=["get"])
    def status(self, request, pk=None):
        return Response(HubStatusSerializer(self.get_object()).data)

    @extend_schema(request=HubRoomsSerializer, responses={200: HubSerializer})
    @action(detail=True, methods=["post", "put"])
    def rooms(self, request, pk=None):
        hub = self.get_object()
        serializer = HubRoomsSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        services.hub_rooms_assign(hub=hub, rooms=serializer.validated_data["room_ids"])
        return Response(HubSerializer(self.get_queryset().get(pk=hub.pk)).data)
