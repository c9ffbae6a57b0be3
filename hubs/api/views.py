"""Hubs: pairing and provisioning, the home's list, a hub's detail, status, Wi-Fi and room slots."""
from django.conf import settings
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from homes.api.mixins import HomeScopedMixin, parse_uuid, require_role
from homes.selectors import membership_in_home
from homes.scoping import Role
from hubs import broker, services
from hubs.errors import HubError
from hubs.models import Hub, HubRoom
from hubs.mqtt import topics
from hubs.mqtt.publisher import broker_params
from veahome.api import no_store
from veahome.error_codes import ApiError

from .serializers import (
    HubClaimWindowSerializer,
    HubPairResponseSerializer,
    HubPairSerializer,
    HubProvisionResponseSerializer,
    HubProvisionSerializer,
    HubRoomsSerializer,
    HubSerializer,
    HubStatusSerializer,
    HubWifiResponseSerializer,
    HubWifiSerializer,
)


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


class HubViewSet(
    HubScopedMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """`hubs/{hubId}` (DELETE unpairs), `hubs/{hubId}/status`, `/rooms`, `/wifi`, `/unpair`."""

    error_codes = {
        "destroy": [HubError.BROKER_UNAVAILABLE],
        "unpair": [HubError.BROKER_UNAVAILABLE],
        "wifi": [HubError.UNREACHABLE],
        "rooms": [HubError.ROOM_LIMIT, HubError.DUPLICATE_ROOM, HubError.ROOM_NOT_IN_HOME],
    }

    queryset = hubs_with_slots()
    serializer_class = HubSerializer
    write_role = Role.ADMIN

    def perform_update(self, serializer):
        serializer.instance = services.hub_update(hub=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.hub_unpair(hub=instance)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def unpair(self, request, pk=None):
        services.hub_unpair(hub=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=HubWifiSerializer, responses={200: HubWifiResponseSerializer})
    @action(detail=True, methods=["post"])
    def wifi(self, request, pk=None):
        hub = self.get_object()
        serializer = HubWifiSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hub = services.hub_wifi_configure(hub=hub, **serializer.validated_data)
        return Response(HubWifiResponseSerializer(self.get_queryset().get(pk=hub.pk)).data)

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


class PairThrottle(SimpleRateThrottle):
    """Slows claim-code guessing: per user, rate from settings.HUB_PAIR_THROTTLE_RATE."""

    scope = "hub_pair"

    def get_rate(self):
        return settings.HUB_PAIR_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class HubPairView(APIView):
    """`POST hub/pair {qrCode, homeId}`: claim an unpaired hub for a home the caller
    administers, with proof of possession (the claim code in the box's QR code, or the
    hub's claim window)."""

    error_codes = {"post": [HubError.INVALID_QR_CODE, HubError.CLAIM_REFUSED, HubError.NOT_FOUND,
                            HubError.PAIRED_ELSEWHERE]}
    throttle_classes = [PairThrottle]

    @extend_schema(request=HubPairSerializer, responses={200: HubPairResponseSerializer, 201: HubPairResponseSerializer})
    def post(self, request):
        serializer = HubPairSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = membership_in_home(serializer.validated_data["home_id"], request.user.pk)
        if membership is None:
            raise exceptions.NotFound()
        require_role(membership.role, Role.ADMIN)
        serial, claim = services.parse_qr(serializer.validated_data["qr_code"])
        hub, paired = services.hub_pair(serial=serial, claim=claim, home=membership.home)
        data = HubPairResponseSerializer(hubs_with_slots().get(pk=hub.pk)).data
        return Response(data, status=status.HTTP_201_CREATED if paired else status.HTTP_200_OK)


class ProvisionThrottle(SimpleRateThrottle):
    """Slows factory-secret guessing: per client address, rate from settings."""

    scope = "hub_provision"

    def get_rate(self):
        return settings.HUB_PROVISION_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class HubClaimWindowView(APIView):
    """`POST hub/claim-window {serial, factorySecret}`: called by a hub when its pair button
    is pressed; for HUB_CLAIM_WINDOW_SECONDS its bare serial is enough to pair it."""

    error_codes = {"post": [ApiError.INVALID_CREDENTIALS, HubError.PAIRED_ELSEWHERE]}

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ProvisionThrottle]

    @extend_schema(request=HubProvisionSerializer, responses={200: HubClaimWindowSerializer}, auth=[])
    def post(self, request):
        serializer = HubProvisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hub = services.hub_claim_window_open(**serializer.validated_data)
        return Response(HubClaimWindowSerializer({"hub_id": hub.pk, "claim_window_until": hub.claim_window_until}).data)


class HubProvisionView(APIView):
    """`POST hub/provision {serial, factorySecret}`: called by a hub, not the app. Rotates and
    returns the hub's broker credentials (the password is shown once)."""

    error_codes = {"post": [ApiError.INVALID_CREDENTIALS, HubError.NOT_PAIRED, HubError.BROKER_UNAVAILABLE]}

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ProvisionThrottle]

    @extend_schema(request=HubProvisionSerializer, responses={200: HubProvisionResponseSerializer}, auth=[])
    def post(self, request):
        serializer = HubProvisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hub, password = services.hub_provision(**serializer.validated_data)
        params = broker_params(settings.MQTT_PUBLIC_URL or settings.MQTT_URL)
        body = {
            "hub_id": hub.pk,
            "mqtt": {
                "host": params["host"],
                "port": params["port"],
                "tls": params["tls"],
                "username": hub.broker_username or broker.hub_username(hub.pk),
                "password": password,
                "client_id": str(hub.pk),
                "topic_root": topics.hub_root(hub.pk),
            },
        }
        return no_store(Response(HubProvisionResponseSerializer(body).data))
