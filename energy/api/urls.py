from django.urls import re_path

from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/tariffs", views.TariffViewSet, basename="tariff")

urlpatterns = [
    re_path(rf"^{HOME}/energy/?$", views.HomeEnergyView.as_view(), name="home-energy"),
    re_path(rf"^{HOME}/rooms/(?P<room_id>[^/]+)/energy/?$", views.RoomEnergyView.as_view(), name="room-energy"),
    re_path(rf"^{HOME}/devices/(?P<device_id>[^/]+)/history/?$", views.DeviceHistoryView.as_view(), name="device-history"),
    re_path(rf"^{HOME}/devices/(?P<device_id>[^/]+)/ingestion-token/?$", views.IngestionTokenView.as_view(), name="device-ingestion-token"),
    re_path(rf"^{HOME}/budget/?$", views.BudgetView.as_view(), name="home-budget"),
    re_path(r"^device/data/?$", views.DeviceDataView.as_view(), name="device-data"),
    re_path(r"^device/heartbeat/?$", views.DeviceHeartbeatView.as_view(), name="device-heartbeat"),
    *router.urls,
]
