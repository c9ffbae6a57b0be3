from django.urls import re_path

from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/devices", views.DeviceViewSet, basename="device")
router.register(rf"{HOME}/device-groups", views.DeviceGroupViewSet, basename="device-group")

urlpatterns = router.urls + [
    re_path(r"^hubs/(?P<hub_id>[^/]+)/devices/(?P<device_id>[^/]+)/learn/?$", views.LearnView.as_view(),
            name="device-learn"),
]
