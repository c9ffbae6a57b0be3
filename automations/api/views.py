"""Scenes, schedules and automations under a home."""
from homes.api.mixins import HomeScopedViewSet
from homes.errors import HomeError

from automations import services
from automations.models import Automation, Scene, Schedule

from .serializers import AutomationSerializer, SceneSerializer, ScheduleSerializer


class SceneViewSet(HomeScopedViewSet):
    error_codes = {"create": [HomeError.HOME_LIMIT]}

    queryset = Scene.objects.all()
    serializer_class = SceneSerializer

    def perform_create(self, serializer):
        serializer.instance = services.scene_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.scene_update(scene=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.scene_delete(scene=instance)


class ScheduleViewSet(HomeScopedViewSet):
    error_codes = {"create": [HomeError.HOME_LIMIT]}

    queryset = Schedule.objects.select_related("home")
    serializer_class = ScheduleSerializer

    def perform_create(self, serializer):
        serializer.instance = services.schedule_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.schedule_update(schedule=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.schedule_delete(schedule=instance)


class AutomationViewSet(HomeScopedViewSet):
    error_codes = {"create": [HomeError.HOME_LIMIT]}

    queryset = Automation.objects.all()
    serializer_class = AutomationSerializer

    def perform_create(self, serializer):
        serializer.instance = services.automation_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.automation_update(automation=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.automation_delete(automation=instance)
