"""Serializers for scenes, schedules and automations; documents are checked by the engine's registries."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from automations.engine.registry import (
    ACTIONS,
    CONDITIONS,
    TRIGGERS,
    WEEKDAYS,
    ConfigError,
    HomeContext,
    check_days,
    check_state,
    validate_actions,
    validate_conditions,
    validate_trigger,
)
from automations.models import Automation, Scene, Schedule
from veahome.api import ModelSerializer, check_document_size

SCHEDULE_ACTIONS = {"device", "scene", "group"}


def _items_of(kinds) -> dict:
    return {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": sorted(kinds)}},
        "additionalProperties": True,
    }


STATE_SCHEMA = {
    "type": "object",
    "minProperties": 1,
    "properties": {
        "isActive": {"type": "boolean"}, "value": {"type": "number"}, "mode": {"type": "string"},
        "color": {"type": "string"}, "position": {"type": "number"},
    },
    "additionalProperties": False,
}
DAYS_SCHEMA = {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(WEEKDAYS)}}
TIME_SCHEMA = {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"}


@extend_schema_field(TIME_SCHEMA)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time in the home's zone, "HH:MM" (seconds optional)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


class DocumentField(serializers.JSONField):
    """A JSON document validated against the home by a registry function; `schema` documents it."""

    def __init__(self, check, schema: dict | None = None, **kwargs):
        self.check = check
        if schema is not None:
            self._spectacular_annotation = {"field": schema}
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        check_document_size(data)
        try:
            return self.check(data, HomeContext(self.context["home"]), self.field_name)
        except ConfigError as exc:
            # Report under the full path, e.g. "actions.1.deviceId".
            if "." not in exc.path:
                raise serializers.ValidationError(exc.message) from None
            raise serializers.ValidationError({exc.path.split(".", 1)[1]: exc.message}) from None


def _device_states(data, ctx: HomeContext, path: str) -> dict:
    if not isinstance(data, dict) or not data:
        raise ConfigError(path, "must map device ids to states")
    known = ctx.device_ids()
    out = {}
    for device_id, state in data.items():
        if device_id not in known:
            raise ConfigError(f"{path}.{device_id}", "no such device in this home")
        out[device_id] = check_state(state, f"{path}.{device_id}")
    return out


def _days(data, ctx, path):
    return check_days(data, path)


class SceneSerializer(ModelSerializer):
    device_states = DocumentField(
        _device_states,
        {"type": "object", "minProperties": 1, "additionalProperties": STATE_SCHEMA, "description": "{deviceId: state}"},
    )
    devices = serializers.SerializerMethodField(help_text="The scene's device ids (keys of deviceStates).")

    class Meta:
        model = Scene
        fields = ["id", "name", "icon", "description", "is_active", "device_states", "devices", "created_at", "updated_at"]
        read_only_fields = ["id", "is_active", "devices", "created_at", "updated_at"]

    def get_devices(self, scene) -> list[str]:
        return list(scene.device_states or {})


class ScheduleSerializer(ModelSerializer):
    days = DocumentField(_days, DAYS_SCHEMA)
    actions = DocumentField(
        lambda data, ctx, path: validate_actions(data, ctx, path, allowed=SCHEDULE_ACTIONS),
        {"type": "array", "minItems": 1, "maxItems": 50, "items": _items_of(SCHEDULE_ACTIONS)},
    )
    time = LocalTimeField()

    class Meta:
        model = Schedule
        fields = ["id", "name", "time", "days", "actions", "enabled", "next_run_at", "last_run_at", "created_at", "updated_at"]
        read_only_fields = ["id", "next_run_at", "last_run_at", "created_at", "updated_at"]


class AutomationSerializer(ModelSerializer):
    trigger = DocumentField(validate_trigger, _items_of(TRIGGERS))
    conditions = DocumentField(validate_conditions, {"type": "array", "items": _items_of(CONDITIONS)}, required=False)
    actions = DocumentField(validate_actions, {"type": "array", "minItems": 1, "maxItems": 50, "items": _items_of(ACTIONS)})

    class Meta:
        model = Automation
        fields = ["id", "name", "trigger", "conditions", "actions", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
