from django.urls import re_path

from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/hubs", views.HomeHubViewSet, basename="home-hub")
router.register(r"hubs", views.HubViewSet, basename="hub")

urlpatterns = [
    re_path(r"^hub/pair/?$", views.HubPairView.as_view(), name="hub-pair"),
    re_path(r"^hub/claim-window/?$", views.HubClaimWindowView.as_view(), name="hub-claim-window"),
    re_path(r"^hub/provision/?$", views.HubProvisionView.as_view(), name="hub-provision"),
    *router.urls,
]
