from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/devices", views.DeviceViewSet, basename="device")
router.register(rf"{HOME}/device-groups", views.DeviceGroupViewSet, basename="device-group")

urlpatterns = router.urls
