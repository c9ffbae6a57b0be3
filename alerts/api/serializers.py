"""Alerts and alert rules as the app sees them."""
from rest_framework import serializers

from alerts.kinds import KINDS, MAX_DELAY_SECONDS
from alerts.models import Alert, Channel, Contact, Notification, NotificationPolicy, Severity, default_routes
from veahome.api import ModelSerializer, StrictBooleanField, StrictCharField, StrictFloatField, StrictIntegerField
from veahome.renderers import camel_key


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
            path = "params." + camel_key(name)
            if spec is None:
                known = ", ".join(camel_key(n) for n in kind.params) or "none"
                errors[path] = [f"{kind.name} has no such setting (its settings: {known})."]
            elif not spec.low <= value <= spec.high:
                errors[path] = [f"Must be between {spec.low:g} and {spec.high:g}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"


class ContactSerializer(ModelSerializer):
    """A contact; `webhookKey` (what its webhook checks signatures with) is shown to the home's
    admins and owner only."""

    phone = serializers.RegexField(PHONE_PATTERN, required=False, allow_blank=True, max_length=20,
                                   error_messages={"invalid": "An international number: + then 7 to 15 digits."})
    tier = StrictIntegerField(required=False, min_value=1, max_value=3)
    webhook_key = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "push_url", "push_token", "tier", "enabled", "webhook_key",
                  "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_webhook_key(self, contact) -> str | None:
        from alerts.notify import webhook_key

        return webhook_key(contact) if self.context.get("show_keys") and contact.push_url else None

    def validate_push_url(self, value):
        if value and not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("An http or https URL.")
        return value


ROUTE_SCHEMA = {"type": "object", "properties": {
    "tiers": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 3}},
    "channels": {"type": "array", "items": {"type": "string", "enum": [c.value for c in Channel]}}}}


class NotificationPolicySerializer(ModelSerializer):
    """Which tiers and channels each severity goes to, quiet hours in the home's zone ("HH:MM";
    both or neither), and after how many minutes an unacknowledged critical alert escalates."""

    routes = serializers.JSONField(required=False)
    quiet_start = serializers.TimeField(required=False, allow_null=True, format="%H:%M", input_formats=["%H:%M"])
    quiet_end = serializers.TimeField(required=False, allow_null=True, format="%H:%M", input_formats=["%H:%M"])
    escalate_after_minutes = StrictIntegerField(required=False, min_value=0, max_value=1440)

    class Meta:
        model = NotificationPolicy
        fields = ["routes", "quiet_start", "quiet_end", "escalate_after_minutes"]

    def validate_routes(self, routes):
        if not isinstance(routes, dict):
            raise serializers.ValidationError("An object by severity.")
        errors = {}
        for severity, route in routes.items():
            if severity not in Severity.values:
                errors[severity] = ["Not a severity (info, warning, critical)."]
                continue
            if not isinstance(route, dict) or set(route) - {"tiers", "channels"}:
                errors[severity] = ["An object with tiers and channels."]
                continue
            tiers, channels = route.get("tiers", []), route.get("channels", [])
            if not isinstance(tiers, list) or any(isinstance(t, bool) or t not in (1, 2, 3) for t in tiers):
                errors[f"{severity}.tiers"] = ["A list of tiers 1 to 3."]
            if not isinstance(channels, list) or any(c not in Channel.values for c in channels):
                errors[f"{severity}.channels"] = [f"A list of {', '.join(Channel.values)}."]
        if errors:
            raise serializers.ValidationError(errors)
        current = self.instance.routes if self.instance is not None and self.instance.routes else default_routes()
        return {**current, **routes}

    def validate(self, attrs):
        instance = self.instance
        start = attrs.get("quiet_start", instance.quiet_start if instance else None)
        end = attrs.get("quiet_end", instance.quiet_end if instance else None)
        if (start is None) != (end is None):
            raise serializers.ValidationError({"quietEnd" if end is None else "quietStart": [
                "Give both ends of the quiet hours, or clear both."]})
        return attrs


class NotificationSerializer(ModelSerializer):
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "contact_id", "channel", "step", "recipient", "status", "attempts", "error",
                  "next_attempt_at", "sent_at", "created_at"]
        read_only_fields = fields
