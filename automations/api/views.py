"""Scenes, schedules and automations under a home."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from django.shortcuts import get_object_or_404
from rest_framework.decorators import action
from rest_framework.response import Response

from automations import services
from automations.engine import runtime as engine
from automations.models import Automation, AutomationRun, Scene, SceneRun, Schedule, ScheduleRun
from devices import fanout
from homes.api.mixins import HomeScopedViewSet, parse_uuid
from homes.errors import HomeError

from .serializers import (
    AutomationRunRequestSerializer,
    AutomationRunSerializer,
    AutomationSerializer,
    SceneActivateSerializer,
    SceneRunSerializer,
    SceneSerializer,
    ScheduleRunSerializer,
    ScheduleSerializer,
)


def runs_page(view, runs, serializer_class):
    """A page of runs, with every command status of the page read in one query."""
    page = view.paginate_queryset(runs)
    statuses = fanout.command_statuses([serializer_class.device_outcomes(run) for run in page])
    data = serializer_class(page, many=True, context={"statuses": statuses, **view.get_serializer_context()}).data
    return view.get_paginated_response(data)


class SceneViewSet(HomeScopedViewSet):
    error_codes = {"create": [HomeError.HOME_LIMIT]}

    queryset = Scene.objects.all()
    serializer_class = SceneSerializer

    def get_serializer_class(self):
        return SceneRunSerializer if self.action in ("activate", "runs") else SceneSerializer

    @extend_schema(request={"application/json": OpenApiTypes.OBJECT}, responses={200: SceneRunSerializer},
                   description="Send every device of the scene to its state (members and above). The run lists "
                               "each device's command, or why it was skipped; the others are sent all the same. "
                               "Takes no options: send `{}` or no body.")
    @action(detail=True, methods=["put"])
    def activate(self, request, *args, **kwargs):
        """Send every device of the scene to its state (members and above). The run lists each
        device's command, or why it was skipped; the others are sent all the same."""
        scene = self.get_object()
        SceneActivateSerializer(data=request.data or {}).is_valid(raise_exception=True)
        run = services.scene_activate(scene=scene, actor=request.user)
        return Response(SceneRunSerializer(run).data)

    @extend_schema(responses={200: SceneRunSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def runs(self, request, *args, **kwargs):
        """The scene's activations, newest first."""
        scene = self.get_object()
        return runs_page(self, SceneRun.objects.filter(scene=scene).order_by("-created_at"), SceneRunSerializer)

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

    def get_serializer_class(self):
        return ScheduleRunSerializer if self.action == "runs" else ScheduleSerializer

    @extend_schema(responses={200: ScheduleRunSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def runs(self, request, *args, **kwargs):
        """The schedule's due times, newest first: fired on time, late, missed or failed."""
        schedule = self.get_object()
        return runs_page(self, ScheduleRun.objects.filter(schedule=schedule).order_by("-due_at"), ScheduleRunSerializer)

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

    def get_serializer_class(self):
        if self.action in ("runs", "run_detail"):
            return AutomationRunSerializer
        if self.action == "run":
            return AutomationRunRequestSerializer
        return AutomationSerializer

    @extend_schema(request=AutomationRunRequestSerializer, responses={200: AutomationRunSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, *args, **kwargs):
        """Run the automation now, by hand (members and above); `skipConditions` runs its actions
        even if a condition is false. Its mode applies. Returns the run as it stands."""
        automation = self.get_object()
        body = AutomationRunRequestSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        run = engine.run_now(automation=automation, actor=request.user,
                             skip_conditions=body.validated_data["skip_conditions"])
        return Response(AutomationRunSerializer(run).data)

    @extend_schema(responses={200: AutomationRunSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def runs(self, request, *args, **kwargs):
        """The automation's runs, newest first, each with its trace."""
        automation = self.get_object()
        return runs_page(self, AutomationRun.objects.filter(automation=automation).order_by("-created_at"),
                         AutomationRunSerializer)

    @extend_schema(responses={200: AutomationRunSerializer})
    @action(detail=True, methods=["get"], url_path=r"runs/(?P<run_id>[^/]+)")
    def run_detail(self, request, run_id=None, *args, **kwargs):
        """One run with its whole trace."""
        automation = self.get_object()
        run = get_object_or_404(AutomationRun.objects.filter(automation=automation), pk=parse_uuid(run_id))
        return Response(AutomationRunSerializer(run).data)

    def perform_create(self, serializer):
        serializer.instance = services.automation_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.automation_update(automation=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.automation_delete(automation=instance)
