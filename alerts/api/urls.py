from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(r"alerts", views.AlertViewSet, basename="alert")
router.register(rf"{HOME}/alerts", views.HomeAlertViewSet, basename="home-alert")
router.register(rf"{HOME}/alert-rules", views.AlertRuleViewSet, basename="alert-rule")

urlpatterns = router.urls
