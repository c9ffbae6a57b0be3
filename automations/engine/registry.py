"""Registries that validate trigger / condition / action documents against a home."""
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(Exception):
    """A config document is wrong at `path` (e.g. "actions.1.deviceId")."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class HomeContext:
    """What validators may look up: ids of the home's objects, loaded lazily and once."""

    home: object
    _cache: dict = field(default_factory=dict)

    def _ids(self, name: str, loader: Callable) -> set[str]:
        if name not in self._cache:
            self._cache[name] = {str(pk) for pk in loader()}
        return self._cache[name]

    def device_ids(self) -> set[str]:
        from devices.models import Device

        return self._ids("devices", lambda: Device.objects.in_home(self.home).values_list("pk", flat=True))

    def scene_ids(self) -> set[str]:
        from automations.models import Scene

        return self._ids("scenes", lambda: Scene.objects.in_home(self.home).values_list("pk", flat=True))

    def group_ids(self) -> set[str]:
        from devices.models import DeviceGroup

        return self._ids("groups", lambda: DeviceGroup.objects.in_home(self.home).values_list("pk", flat=True))


Validator = Callable[[dict, HomeContext, str], dict]

TRIGGERS: dict[str, Validator] = {}
CONDITIONS: dict[str, Validator] = {}
ACTIONS: dict[str, Validator] = {}


def _register(table: dict, kind: str):
    def register(validator: Validator) -> Validator:
        table[kind] = validator
        return validator

    return register


def trigger(kind):
    return _register(TRIGGERS, kind)


def condition(kind):
    return _register(CONDITIONS, kind)


def action(kind):
    return _register(ACTIONS, kind)


# --- shared checks --------------------------------------------------------------------------


def require(cfg: dict, key: str, path: str):
    if key not in cfg or cfg[key] is None:
        raise ConfigError(f"{path}.{key}", "is required")
    return cfg[key]


def check_ref(cfg: dict, key: str, path: str, known: Callable[[], set[str]], what: str) -> str:
    value = require(cfg, key, path)
    try:
        normalised = str(uuid.UUID(str(value)))
    except ValueError:
        raise ConfigError(f"{path}.{key}", f"is not a {what} id") from None
    if normalised not in known():
        raise ConfigError(f"{path}.{key}", f"no {what} {normalised} in this home")
    return normalised


def check_time(value, path: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(path, 'must be a time "HH:MM"')
    try:
        parsed = datetime.time.fromisoformat(value)
    except ValueError:
        raise ConfigError(path, f'"{value}" is not a time "HH:MM"') from None
    return parsed.strftime("%H:%M:%S" if parsed.second else "%H:%M")


def check_days(value, path: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ConfigError(path, "must be a non-empty list of weekday names")
    days = []
    for index, day in enumerate(value):
        name = day.lower() if isinstance(day, str) else None
        if name not in WEEKDAYS:
            raise ConfigError(f"{path}.{index}", f"unknown day {day!r}; use one of {', '.join(WEEKDAYS)}")
        if name not in days:
            days.append(name)
    return days


def check_number(cfg: dict, key: str, path: str, *, required=True):
    if key not in cfg:
        if required:
            raise ConfigError(f"{path}.{key}", "is required")
        return None
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{path}.{key}", "must be a number")
    return value


STATE_KEYS = {"isActive": bool, "value": (int, float), "mode": str, "color": str, "position": (int, float)}


def check_state(value, path: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise ConfigError(path, "must be an object with at least one of " + ", ".join(STATE_KEYS))
    for key, item in value.items():
        expected = STATE_KEYS.get(key)
        if expected is None:
            raise ConfigError(f"{path}.{key}", f"unknown state attribute; use {', '.join(STATE_KEYS)}")
        if isinstance(item, bool) and expected is not bool or not isinstance(item, expected):
            raise ConfigError(f"{path}.{key}", "has the wrong type")
    return dict(value)


def check_object(value, path: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(path, "must be an object")
    return value


def _dispatch(table: dict, cfg, ctx: HomeContext, path: str, what: str) -> dict:
    cfg = check_object(cfg, path)
    kind = cfg.get("type")
    if not isinstance(kind, str) or kind not in table:
        raise ConfigError(f"{path}.type", f"unknown {what} type {kind!r}; use one of {', '.join(sorted(table))}")
    return {"type": kind, **table[kind](cfg, ctx, path)}


def validate_trigger(cfg, ctx: HomeContext, path: str = "trigger") -> dict:
    return _dispatch(TRIGGERS, cfg, ctx, path, "trigger")


def validate_conditions(cfgs, ctx: HomeContext, path: str = "conditions") -> list[dict]:
    if not isinstance(cfgs, list):
        raise ConfigError(path, "must be a list")
    return [_dispatch(CONDITIONS, c, ctx, f"{path}.{i}", "condition") for i, c in enumerate(cfgs)]


def validate_actions(cfgs, ctx: HomeContext, path: str = "actions", *, allowed: set[str] | None = None) -> list[dict]:
    if not isinstance(cfgs, list) or not cfgs:
        raise ConfigError(path, "must be a non-empty list")
    if len(cfgs) > 50:
        raise ConfigError(path, "at most 50 actions")
    table = ACTIONS if allowed is None else {k: v for k, v in ACTIONS.items() if k in allowed}
    return [_dispatch(table, c, ctx, f"{path}.{i}", "action") for i, c in enumerate(cfgs)]


# --- triggers -----------------------------------------------------------------------------


@trigger("time")
def time_trigger(cfg, ctx, path):
    out = {"at": check_time(require(cfg, "at", path), f"{path}.at")}
    if "days" in cfg:
        out["days"] = check_days(cfg["days"], f"{path}.days")
    return out


COMPARATORS = ("equals", "above", "below")


def _comparison(cfg, path) -> dict:
    present = [c for c in COMPARATORS if c in cfg]
    if not present:
        raise ConfigError(path, f"needs one of {', '.join(COMPARATORS)}")
    out = {}
    for comparator in present:
        if comparator == "equals":
            value = cfg["equals"]
            if not isinstance(value, (bool, int, float, str)):
                raise ConfigError(f"{path}.equals", "must be a boolean, number or string")
            out["equals"] = value
        else:
            out[comparator] = check_number(cfg, comparator, path)
    return out


@trigger("device")
def device_trigger(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device")}
    attribute = cfg.get("attribute", "isActive")
    if not isinstance(attribute, str) or not attribute:
        raise ConfigError(f"{path}.attribute", "must be a state attribute name")
    out["attribute"] = attribute
    if any(c in cfg for c in COMPARATORS):
        out.update(_comparison(cfg, path))
    return out


@trigger("sensor")
def sensor_trigger(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device")}
    field_name = require(cfg, "field", path)
    if not isinstance(field_name, str):
        raise ConfigError(f"{path}.field", "must be a telemetry field name")
    out["field"] = field_name
    out.update(_comparison(cfg, path))
    return out


# --- conditions ---------------------------------------------------------------------------


@condition("device_state")
def device_state_condition(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device")}
    attribute = cfg.get("attribute", "isActive")
    if not isinstance(attribute, str):
        raise ConfigError(f"{path}.attribute", "must be a state attribute name")
    out["attribute"] = attribute
    out.update(_comparison(cfg, path))
    return out


@condition("time_window")
def time_window_condition(cfg, ctx, path):
    return {
        "after": check_time(require(cfg, "after", path), f"{path}.after"),
        "before": check_time(require(cfg, "before", path), f"{path}.before"),
    }


@condition("day_of_week")
def day_of_week_condition(cfg, ctx, path):
    return {"days": check_days(require(cfg, "days", path), f"{path}.days")}


# --- actions ------------------------------------------------------------------------------


@action("device")
def device_action(cfg, ctx, path):
    return {
        "deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device"),
        "state": check_state(require(cfg, "state", path), f"{path}.state"),
    }


@action("scene")
def scene_action(cfg, ctx, path):
    return {"sceneId": check_ref(cfg, "sceneId", path, ctx.scene_ids, "scene")}


@action("group")
def group_action(cfg, ctx, path):
    return {
        "groupId": check_ref(cfg, "groupId", path, ctx.group_ids, "device group"),
        "state": check_state(require(cfg, "state", path), f"{path}.state"),
    }


@action("delay")
def delay_action(cfg, ctx, path):
    seconds = check_number(cfg, "seconds", path)
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{path}.seconds", "must be between 0 and 3600")
    return {"seconds": seconds}


@action("notify")
def notify_action(cfg, ctx, path):
    message = require(cfg, "message", path)
    if not isinstance(message, str) or not 0 < len(message) <= 500:
        raise ConfigError(f"{path}.message", "must be a text of 1 to 500 characters")
    return {"message": message}
