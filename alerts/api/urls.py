from django.urls import re_path

from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(r"alerts", views.AlertViewSet, basename="alert")
router.register(rf"{HOME}/alerts", views.HomeAlertViewSet, basename="home-alert")
router.register(rf"{HOME}/alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register(rf"{HOME}/contacts", views.ContactViewSet, basename="contact")

policy = views.NotificationPolicyViewSet.as_view({"get": "show", "patch": "partial"})
urlpatterns = router.urls + [re_path(rf"^{HOME}/notification-policy/?$", policy, name="notification-policy")]
