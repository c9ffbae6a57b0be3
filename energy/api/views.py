"""Energy, device history, tariffs, budgets and HTTP ingestion endpoints."""
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from devices.models import Device
from energy import history, periods, selectors, services
from energy.errors import EnergyError
from energy.models import Budget, Tariff
from homes.api.mixins import HomeScopedMixin, HomeScopedViewSet, parse_uuid
from homes.models import Room
from homes.scoping import Role
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError
from veahome.parsers import KeysAsSentJSONParser

from .serializers import (
    BudgetSerializer,
    DeviceDataSerializer,
    EnergyQuerySerializer,
    HistoryQuerySerializer,
    IngestionTokenSerializer,
    TariffSerializer,
)


def _query(serializer_class, view):
    serializer = serializer_class(data=view.request.query_params.dict(), context=view.get_serializer_context())
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class _HomeView(HomeScopedMixin, GenericAPIView):
    pagination_class = None

    def get_serializer_context(self):
        return {"request": self.request, "view": self, "home": self.home}


class _EnergyView(_HomeView):
    def report(self, room=None):
        query = _query(EnergyQuerySerializer, self)
        home = self.home
        if "from" in query:
            span, previous = periods.range_spans(query["from"], query["to"])
            label = "range"
        else:
            anchor = query.get("date") or periods.local_today(home.tz)
            span, previous = periods.period_spans(query["period"], anchor, home.tz)
            label = query["period"]
        return Response(selectors.energy_report(home, span, previous, room=room, label=label))


@extend_schema(parameters=[EnergyQuerySerializer], responses={200: dict})
class HomeEnergyView(_EnergyView):
    def get(self, request, *args, **kwargs):
        return self.report()


@extend_schema(parameters=[EnergyQuerySerializer], responses={200: dict})
class RoomEnergyView(_EnergyView):
    def get(self, request, *args, **kwargs):
        room = Room.objects.in_home(self.home).filter(pk=parse_uuid(kwargs["room_id"])).first()
        if room is None:
            raise exceptions.NotFound()
        return self.report(room=room)


def _device(view, device_id) -> Device:
    device = Device.objects.in_home(view.home).select_related("home").filter(pk=parse_uuid(device_id)).first()
    if device is None:
        raise exceptions.NotFound()
    return device


@extend_schema(parameters=[HistoryQuerySerializer], responses={200: dict})
class DeviceHistoryView(_HomeView):
    error_codes = {"get": [EnergyError.TOO_MANY_POINTS]}

    def get(self, request, *args, **kwargs):
        device = _device(self, kwargs["device_id"])
        query = _query(HistoryQuerySerializer, self)
        try:
            data = history.device_history(
                device=device, start=query["from"], end=query["to"],
                interval=query["interval"], fields=query.get("fields"),
            )
        except history.TooManyPoints as exc:
            raise ApplicationError(EnergyError.TOO_MANY_POINTS, str(exc), fields={"interval": [str(exc)]}) from None
        return Response(data)


class TariffViewSet(HomeScopedViewSet):
    error_codes = {
        "create": [EnergyError.TARIFF_EXISTS],
        "update": [EnergyError.TARIFF_EXISTS, EnergyError.TARIFF_IN_EFFECT, EnergyError.TARIFF_IN_PAST],
        "partial_update": [EnergyError.TARIFF_EXISTS, EnergyError.TARIFF_IN_EFFECT, EnergyError.TARIFF_IN_PAST],
        "destroy": [EnergyError.TARIFF_IN_EFFECT],
    }

    queryset = Tariff.objects.all()
    serializer_class = TariffSerializer
    write_role = Role.ADMIN
    pagination_class = None

    def perform_create(self, serializer):
        serializer.instance = services.tariff_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.tariff_update(tariff=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.tariff_delete(tariff=instance)


class BudgetView(_HomeView):
    """The home's monthly budget and this month's usage against it (`status`)."""

    serializer_class = BudgetSerializer
    write_role = Role.ADMIN

    def _body(self):
        budget = Budget.objects.in_home(self.home).first()
        return {
            "budget": BudgetSerializer(budget).data if budget else None,
            "status": selectors.budget_status(home=self.home),
        }

    @extend_schema(responses={200: dict})
    def get(self, request, *args, **kwargs):
        return Response(self._body())

    @extend_schema(request=BudgetSerializer, responses={200: dict})
    def post(self, request, *args, **kwargs):
        serializer = BudgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.budget_set(home=self.home, **serializer.validated_data)
        return Response(self._body())

    put = post

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        budget = Budget.objects.in_home(self.home).first()
        if budget is None:
            raise exceptions.NotFound()
        services.budget_delete(budget=budget)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IngestionTokenView(_HomeView):
    """A device's credential for POST /api/device/data; the token is shown once."""

    write_role = Role.ADMIN
    serializer_class = IngestionTokenSerializer

    @extend_schema(request=None, responses={201: IngestionTokenSerializer})
    def post(self, request, *args, **kwargs):
        device = _device(self, kwargs["device_id"])
        token = services.ingestion_token_issue(device=device)
        return Response({"deviceId": str(device.pk), "token": token}, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def delete(self, request, *args, **kwargs):
        services.ingestion_token_revoke(device=_device(self, kwargs["device_id"]))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceDataThrottle(SimpleRateThrottle):
    scope = "device_data"

    def get_rate(self):
        from django.conf import settings

        return settings.ENERGY_INGEST_THROTTLE_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": getattr(request, "ingest_device_id", None) or self.get_ident(request)}


class _DeviceTokenView(APIView):
    """An endpoint of a device that does not sit behind a hub, authenticated by its ingestion
    token: `Authorization: Device <token>` (or `X-Device-Token`), throttled per device."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = [KeysAsSentJSONParser]
    # Public to DRF's authentication, but the device token is checked and throttled in post().
    error_codes = {"post": [ApiError.AUTHENTICATION_FAILED, ApiError.THROTTLED]}

    def _device(self, request) -> Device:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Device ") else request.headers.get("X-Device-Token", "")
        device = services.device_for_token(token) if token else None
        if device is None:
            raise exceptions.AuthenticationFailed("A valid device ingestion token is required.")
        return device

    def get_authenticate_header(self, request):
        return "Device"

    def _checked_device(self, request) -> Device:
        device = self._device(request)
        # Throttled per device, which is only known once the token is checked.
        request.ingest_device_id = str(device.pk)
        throttle = DeviceDataThrottle()
        if not throttle.allow_request(request, self):
            self.throttled(request, throttle.wait())
        return device


class DeviceDataView(_DeviceTokenView):
    """Readings posted by a device that does not sit behind a hub. Field names are kept as sent."""

    @extend_schema(request=dict, responses={202: dict})
    def post(self, request, *args, **kwargs):
        device = self._checked_device(request)
        serializer = DeviceDataSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accepted = services.ingest_device_readings(device=device, readings=serializer.validated_data["readings"])
        return Response({"deviceId": str(device.pk), "accepted": accepted}, status=status.HTTP_202_ACCEPTED)


class DeviceHeartbeatView(_DeviceTokenView):
    """`POST /api/device/heartbeat` (seed 001's device heartbeat, for devices without a hub): the
    device is alive. Its readings count as well; a device heard from by neither for its home's
    `device_silent` rule raises that alert (docs/alerts.md). No body."""

    @extend_schema(request=None, responses={202: dict})
    def post(self, request, *args, **kwargs):
        device = self._checked_device(request)
        return Response({"deviceId": str(device.pk), "heardAt": services.device_heard_at(device=device).isoformat()},
                        status=status.HTTP_202_ACCEPTED)
