"""Alerts across the caller's homes (`/api/alerts`), a home's alerts and its alert rules."""
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alerts import services
from alerts.errors import AlertError
from alerts.kinds import KINDS
from alerts import notify
from alerts.models import Alert, Contact, Notification
from homes.api.mixins import HomeScopedMixin, HomeScopedViewSet, parse_uuid, require_role
from homes.scoping import Role, role_at_least
from homes.selectors import membership_in_home

from .filters import AlertFilter, HomeAlertFilter
from .serializers import (
    AlertRuleSerializer,
    AlertRuleUpdateSerializer,
    AlertSerializer,
    AlertStepSerializer,
    ContactSerializer,
    NotificationPolicySerializer,
    NotificationSerializer,
)


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The alerts of every home the caller is a member of; members and above take the steps."""

    error_codes = {"ack": [AlertError.ILLEGAL_TRANSITION], "escalate": [AlertError.ILLEGAL_TRANSITION],
                   "close": [AlertError.ILLEGAL_TRANSITION]}
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Alert.objects.visible_to(self.request.user).order_by("-last_seen_at")

    def get_object(self):
        parse_uuid(self.kwargs.get("pk"))
        return super().get_object()

    def get_serializer_class(self):
        return AlertStepSerializer if self.action in ("ack", "escalate", "close") else AlertSerializer

    def _step(self, request, step: str):
        alert = self.get_object()
        membership = membership_in_home(alert.home_id, request.user.pk)
        if membership is None:
            raise Http404
        require_role(membership.role, Role.MEMBER)
        body = AlertStepSerializer(data=request.data or {})
        body.is_valid(raise_exception=True)
        alert = services.alert_step(alert=alert, step=step, actor=membership.user,
                                    note=body.validated_data.get("note", ""))
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=AlertStepSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def ack(self, request, *args, **kwargs):
        """Acknowledge: someone is on it (from open or escalated)."""
        return self._step(request, "acknowledge")

    @extend_schema(request=AlertStepSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def escalate(self, request, *args, **kwargs):
        """Escalate (from open or acknowledged)."""
        return self._step(request, "escalate")

    @extend_schema(request=AlertStepSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        """Close, with an optional note; a closed alert stays closed, and the same cause later
        raises a new alert."""
        return self._step(request, "close")


class HomeAlertViewSet(HomeScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A home's alerts, newest activity first."""

    queryset = Alert.objects.order_by("-last_seen_at")
    serializer_class = AlertSerializer
    filterset_class = HomeAlertFilter
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return NotificationSerializer if self.action == "notifications" else AlertSerializer

    @extend_schema(responses={200: NotificationSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None)
    def notifications(self, request, *args, **kwargs):
        """What was sent about the alert, to whom, over which channel, at which escalation step,
        and how it went."""
        alert = self.get_object()
        page = self.paginate_queryset(Notification.objects.filter(alert=alert).order_by("step", "created_at"))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class ContactViewSet(HomeScopedViewSet):
    """The people told about the home's alerts; members read, admins and the owner change."""

    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    read_role = Role.MEMBER
    write_role = Role.ADMIN

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["show_keys"] = role_at_least(self.membership.role, Role.ADMIN)
        return context

    def perform_create(self, serializer):
        serializer.instance = services.contact_create(home=self.home, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contact_update(contact=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        services.contact_delete(contact=instance)


class NotificationPolicyViewSet(HomeScopedMixin, viewsets.ViewSet):
    """The home's notification policy (one per home; the defaults until changed)."""

    read_role = Role.MEMBER
    write_role = Role.ADMIN
    serializer_class = NotificationPolicySerializer

    @extend_schema(responses={200: NotificationPolicySerializer})
    def show(self, request, *args, **kwargs):
        return Response(NotificationPolicySerializer(notify.policy_of(self.home.pk)).data)

    @extend_schema(request=NotificationPolicySerializer, responses={200: NotificationPolicySerializer})
    def partial(self, request, *args, **kwargs):
        body = NotificationPolicySerializer(notify.policy_of(self.home.pk), data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        policy = services.policy_update(home=self.home, **body.validated_data)
        return Response(NotificationPolicySerializer(policy).data)


KIND_PARAMETER = OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH, enum=sorted(KINDS),
                                  description="The alert kind the rule is for.")


@extend_schema_view(retrieve=extend_schema(parameters=[KIND_PARAMETER]),
                    partial_update=extend_schema(parameters=[KIND_PARAMETER]))
class AlertRuleViewSet(HomeScopedMixin, viewsets.ViewSet):
    """Per-home detection settings, one per alert kind; reading them is every member's, changing
    them an admin's."""

    write_role = Role.ADMIN
    lookup_field = "kind"
    lookup_value_regex = "[a-z_]+"
    serializer_class = AlertRuleSerializer

    def _rule(self, kind: str):
        if kind not in KINDS:
            raise Http404
        return services.rules_for([self.home.pk])[str(self.home.pk)][kind]

    @extend_schema(responses={200: AlertRuleSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        rules = services.rules_for([self.home.pk])[str(self.home.pk)]
        return Response(AlertRuleSerializer([rules[kind] for kind in sorted(rules)], many=True).data)

    @extend_schema(responses={200: AlertRuleSerializer})
    def retrieve(self, request, kind=None, *args, **kwargs):
        return Response(AlertRuleSerializer(self._rule(kind)).data)

    @extend_schema(request=AlertRuleUpdateSerializer, responses={200: AlertRuleSerializer})
    def partial_update(self, request, kind=None, *args, **kwargs):
        current = self._rule(kind)
        body = AlertRuleUpdateSerializer(data=request.data, context={"kind": kind})
        body.is_valid(raise_exception=True)
        _check_thresholds(kind, {**current.params, **body.validated_data.get("params", {})})
        rule = services.alert_rule_update(home=self.home, kind=kind, **body.validated_data)
        return Response(AlertRuleSerializer(rule).data)


def _check_thresholds(kind: str, params: dict) -> None:
    """A clear threshold on the wrong side of its raise threshold would raise and resolve at
    once: a 400 naming it."""
    from rest_framework.exceptions import ValidationError

    if "below" in params and "clear_above" in params and params["clear_above"] < params["below"]:
        raise ValidationError({"params.clearAbove": [f"Must be at least below ({params['below']:g})."]})
    if "above" in params and "clear_below" in params and params["clear_below"] > params["above"]:
        raise ValidationError({"params.clearBelow": [f"Must be at most above ({params['above']:g})."]})
