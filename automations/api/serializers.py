"""Serializers for scenes, schedules and automations; documents are checked by the engine's registries."""
from rest_framework import serializers

from automations.engine.registry import (
    ConfigError,
    HomeContext,
    check_days,
    check_state,
    validate_actions,
    validate_conditions,
    validate_trigger,
)
from automations.models import Automation, Scene, Schedule

SCHEDULE_ACTIONS = {"device", "scene", "group"}


class DocumentField(serializers.JSONField):
    """A JSON document validated against the home by a registry function."""

    def __init__(self, check, **kwargs):
        self.check = check
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
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


class SceneSerializer(serializers.ModelSerializer):
    device_states = DocumentField(_device_states)
    devices = serializers.SerializerMethodField(help_text="The scene's device ids (keys of deviceStates).")

    class Meta:
        model = Scene
        fields = ["id", "name", "icon", "description", "is_active", "device_states", "devices", "created_at", "updated_at"]
        read_only_fields = ["id", "is_active", "devices", "created_at", "updated_at"]

    def get_devices(self, scene) -> list[str]:
        return list(scene.device_states or {})


class ScheduleSerializer(serializers.ModelSerializer):
    days = DocumentField(_days)
    actions = DocumentField(lambda data, ctx, path: validate_actions(data, ctx, path, allowed=SCHEDULE_ACTIONS))
    time = serializers.TimeField(format="%H:%M", input_formats=["%H:%M", "%H:%M:%S"])

    class Meta:
        model = Schedule
        fields = ["id", "name", "time", "days", "actions", "enabled", "next_run_at", "last_run_at", "created_at", "updated_at"]
        read_only_fields = ["id", "next_run_at", "last_run_at", "created_at", "updated_at"]


class AutomationSerializer(serializers.ModelSerializer):
    trigger = DocumentField(validate_trigger)
    conditions = DocumentField(validate_conditions, required=False)
    actions = DocumentField(validate_actions)

    class Meta:
        model = Automation
        fields = ["id", "name", "trigger", "conditions", "actions", "enabled", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
