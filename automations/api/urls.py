from veahome.routers import HOME, OptionalSlashRouter

from . import views

router = OptionalSlashRouter()
router.register(rf"{HOME}/scenes", views.SceneViewSet, basename="scene")
router.register(rf"{HOME}/schedules", views.ScheduleViewSet, basename="schedule")
router.register(rf"{HOME}/automations", views.AutomationViewSet, basename="automation")

urlpatterns = router.urls
