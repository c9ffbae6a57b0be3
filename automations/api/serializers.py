"""Serializers for scenes, schedules and automations; documents are checked by the engine's registries."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from automations import actions
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
from automations.models import Automation, AutomationRun, Scene, SceneRun, Schedule, ScheduleRun
from devices import fanout
from devices.api.serializers import OutcomeSerializer
from veahome.api import ModelSerializer, StrictBooleanField, StrictIntegerField, check_document_size

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
        fields = ["id", "name", "time", "days", "actions", "enabled", "grace_seconds", "next_run_at", "last_run_at",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "next_run_at", "last_run_at", "created_at", "updated_at"]


class AutomationSerializer(ModelSerializer):
    """docs/automations.md is the reference of every trigger, condition, action and mode."""

    trigger = DocumentField(validate_trigger, _items_of(TRIGGERS))
    conditions = DocumentField(validate_conditions, {"type": "array", "items": _items_of(CONDITIONS)}, required=False)
    actions = DocumentField(validate_actions, {"type": "array", "minItems": 1, "maxItems": 50, "items": _items_of(ACTIONS)})
    max_runs = StrictIntegerField(min_value=1, max_value=100, required=False,
                                        help_text="queued: runs waiting at most; parallel: runs at once at most.")

    class Meta:
        model = Automation
        fields = ["id", "name", "trigger", "conditions", "actions", "enabled", "mode", "max_runs", "disabled_reason",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "disabled_reason", "created_at", "updated_at"]
        extra_kwargs = {"disabled_reason": {"help_text": "Why the engine disabled it (the loop guard); empty otherwise."}}


class AutomationRunRequestSerializer(serializers.Serializer):
    skip_conditions = StrictBooleanField(required=False, default=False,
                                               help_text="Run the actions even if a condition is false.")


class SceneActivateSerializer(serializers.Serializer):
    """Activation takes no options: send an empty object, or no body."""


class RunSerializer(serializers.ModelSerializer):
    """A run whose device outcomes show each command's status now. `runs_page` reads the
    statuses of a whole page in one query and passes them as `statuses` in the context."""

    @staticmethod
    def device_outcomes(run) -> list[dict]:
        raise NotImplementedError

    def statuses(self, run) -> dict[str, str]:
        statuses = self.context.get("statuses")
        return statuses if statuses is not None else fanout.command_statuses([self.device_outcomes(run)])


class SceneRunSerializer(RunSerializer):
    """A scene's activation; each outcome's status is its command's now."""

    scene_id = serializers.UUIDField(read_only=True)
    actor_id = serializers.UUIDField(read_only=True, allow_null=True)
    outcomes = serializers.SerializerMethodField()

    class Meta:
        model = SceneRun
        fields = ["id", "scene_id", "source", "actor_id", "created_at", "outcomes"]

    @staticmethod
    def device_outcomes(run) -> list[dict]:
        return run.outcomes

    @extend_schema_field(OutcomeSerializer(many=True))
    def get_outcomes(self, run) -> list:
        return OutcomeSerializer(fanout.with_status(run.outcomes, self.statuses(run)), many=True).data


class ActionOutcomeSerializer(serializers.Serializer):
    """One action of a run (automations.actions): what it reached, or why it did nothing."""

    type = serializers.ChoiceField(choices=sorted(SCHEDULE_ACTIONS))
    device_id = serializers.UUIDField(source="deviceId", required=False)
    scene_id = serializers.UUIDField(source="sceneId", required=False)
    scene_run_id = serializers.UUIDField(source="sceneRunId", required=False, help_text="The scene run it started.")
    group_id = serializers.UUIDField(source="groupId", required=False)
    skipped = serializers.ChoiceField(choices=["scene_deleted", "group_deleted"], allow_null=True,
                                      help_text="Why the action did nothing at all.")
    devices = OutcomeSerializer(many=True)


class ScheduleRunSerializer(RunSerializer):
    """A schedule's due time: when it fired (or that it was missed), and each action's outcome,
    with each command's status now."""

    schedule_id = serializers.UUIDField(read_only=True)
    outcomes = serializers.SerializerMethodField()

    class Meta:
        model = ScheduleRun
        fields = ["id", "schedule_id", "due_at", "fired_at", "status", "outcomes"]

    @staticmethod
    def device_outcomes(run) -> list[dict]:
        return actions.device_outcomes(run.outcomes)

    @extend_schema_field(ActionOutcomeSerializer(many=True))
    def get_outcomes(self, run) -> list:
        return ActionOutcomeSerializer(actions.with_status(run.outcomes, self.statuses(run)), many=True).data


class AutomationRunSerializer(RunSerializer):
    """A run: what triggered it, each condition's result and what it saw, each action's
    outcome (devices' commands with their status now, delays, waits), timings and status."""

    automation_id = serializers.UUIDField(read_only=True)
    trace = serializers.SerializerMethodField()

    @staticmethod
    def device_outcomes(run) -> list[dict]:
        return actions.device_outcomes(run.trace.get("actions", []) if isinstance(run.trace, dict) else [])

    class Meta:
        model = AutomationRun
        fields = ["id", "automation_id", "status", "trigger", "trace", "step", "resume_at", "started_at",
                  "finished_at", "created_at"]

    @extend_schema_field({"type": "object", "additionalProperties": True,
                          "description": "trigger, conditions [{path, type, result, saw}], actions [{path, type, "
                                         "startedAt, ms, outcome / devices / delayedUntil / waitingUntil}], note"})
    def get_trace(self, run) -> dict:
        steps = run.trace.get("actions", []) if isinstance(run.trace, dict) else []
        if not steps:
            return run.trace
        return {**run.trace, "actions": actions.with_status(steps, self.statuses(run))}
