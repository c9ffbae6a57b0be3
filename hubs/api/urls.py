from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/hubs", views.HomeHubViewSet, basename="home-hub")
router.register(r"hubs", views.HubViewSet, basename="hub")

urlpatterns = router.urls
