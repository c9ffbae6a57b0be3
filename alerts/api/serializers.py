"""Alerts and alert rules as the app sees them."""
from djangorestframework_camel_case.util import camelize
from rest_framework import serializers

from alerts.kinds import KINDS, MAX_DELAY_SECONDS
from alerts.models import Alert, Severity
from veahome.api import ModelSerializer, StrictBooleanField, StrictCharField, StrictFloatField, StrictIntegerField


class AlertSerializer(ModelSerializer):
    home_id = serializers.UUIDField(read_only=True)
    acknowledged_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    escalated_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    closed_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    # null until it closes, then how: the cause cleared, or a person closed it.
    resolution = serializers.ChoiceField(choices=Alert.Resolution.choices, read_only=True, allow_null=True,
                                         source="resolution_or_none")

    class Meta:
        model = Alert
        fields = ["id", "home_id", "source", "source_id", "kind", "severity", "status", "title", "data",
                  "occurrences", "first_seen_at", "last_seen_at", "acknowledged_at", "acknowledged_by_id",
                  "escalated_at", "escalated_by_id", "closed_at", "closed_by_id", "resolution", "close_note"]
        read_only_fields = fields


class AlertStepSerializer(serializers.Serializer):
    """The body of ack / escalate / close: an optional note (kept with a close)."""

    note = StrictCharField(required=False, allow_blank=True, max_length=2000)


class AlertRuleSerializer(serializers.Serializer):
    """A kind's rule in force for the home: its settings or the defaults."""

    kind = serializers.CharField(read_only=True)
    source = serializers.SerializerMethodField()
    enabled = serializers.BooleanField(read_only=True)
    severity = serializers.CharField(read_only=True)
    delay_seconds = serializers.IntegerField(read_only=True)
    params = serializers.DictField(child=serializers.FloatField(), read_only=True)
    param_help = serializers.SerializerMethodField()

    def get_source(self, rule) -> str:
        return KINDS[rule.kind].source

    def get_param_help(self, rule) -> dict:
        return {name: f"{p.help} {p.low:g}..{p.high:g}, default {p.default:g}."
                for name, p in KINDS[rule.kind].params.items()}  # keys camelCased by the renderer


class AlertRuleUpdateSerializer(serializers.Serializer):
    enabled = StrictBooleanField(required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    delay_seconds = StrictIntegerField(required=False, min_value=0, max_value=MAX_DELAY_SECONDS)
    params = serializers.DictField(child=StrictFloatField(), required=False)

    def validate(self, attrs):
        kind = KINDS[self.context["kind"]]
        params = attrs.get("params") or {}
        errors = {}
        for name, value in params.items():
            spec = kind.params.get(name)
            # The client's own spelling of the key (the parser made it snake_case).
            path = "params." + next(iter(camelize({name: None})))
            if spec is None:
                known = ", ".join(next(iter(camelize({n: None}))) for n in kind.params) or "none"
                errors[path] = [f"{kind.name} has no such setting (its settings: {known})."]
            elif not spec.low <= value <= spec.high:
                errors[path] = [f"Must be between {spec.low:g} and {spec.high:g}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs
