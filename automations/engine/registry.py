"""Registries of trigger, condition and action kinds: each entry validates a document against
the home when it is saved and compiles it once into what the engine runs.

`validate(cfg, ctx, path)` returns the clean document or raises ConfigError with the path of
the offending value (a field-level 400). `compile(cfg, path)` turns a clean document into a
callable or a spec (automations.engine.compiled); the engine never interprets documents
while it runs.
"""
import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# A delay, a wait's timeout or a trigger's `for` is at most a day.
MAX_SECONDS = 86_400
# A sun trigger's offset from sunrise or sunset is at most six hours either way.
MAX_SUN_OFFSET = 6 * 3600
MAX_NESTING = 5


class ConfigError(Exception):
    """A config document is wrong at `path` (e.g. "actions.1.deviceId")."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class HomeContext:
    """What validators may look up: the home, and ids of its objects, loaded lazily and once."""

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

    def hub_ids(self) -> set[str]:
        from hubs.models import Hub

        return self._ids("hubs", lambda: Hub.objects.filter(home=self.home).values_list("pk", flat=True))

    def has_location(self) -> bool:
        return getattr(self.home, "latitude", None) is not None and getattr(self.home, "longitude", None) is not None


Validator = Callable[[dict, HomeContext, str], dict]


@dataclass
class Entry:
    """One kind: its validator, and its compiler once automations.engine.compiled registers it."""

    kind: str
    validate: Validator
    compile: Callable | None = None

    def compiler(self, fn: Callable) -> Callable:
        self.compile = fn
        return fn


TRIGGERS: dict[str, Entry] = {}
CONDITIONS: dict[str, Entry] = {}
ACTIONS: dict[str, Entry] = {}


def _register(table: dict, kind: str):
    def register(validator: Validator) -> Entry:
        table[kind] = Entry(kind, validator)
        return table[kind]

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


def check_seconds(cfg: dict, key: str, path: str, *, required=True, maximum=MAX_SECONDS):
    seconds = check_number(cfg, key, path, required=required)
    if seconds is not None and not 0 < seconds <= maximum:
        raise ConfigError(f"{path}.{key}", f"must be between 0 and {maximum} seconds")
    return seconds


def check_choice(cfg: dict, key: str, path: str, choices: tuple[str, ...], *, required=True):
    if key not in cfg and not required:
        return None
    value = require(cfg, key, path)
    if value not in choices:
        raise ConfigError(f"{path}.{key}", f"must be one of {', '.join(choices)}")
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


def check_attribute(cfg: dict, path: str, key: str = "attribute", default: str = "isActive") -> str:
    attribute = cfg.get(key, default)
    if not isinstance(attribute, str) or not 0 < len(attribute) <= 64:
        raise ConfigError(f"{path}.{key}", "must be a state attribute name")
    return attribute


def _dispatch(table: dict, cfg, ctx: HomeContext, path: str, what: str) -> dict:
    cfg = check_object(cfg, path)
    kind = cfg.get("type")
    if not isinstance(kind, str) or kind not in table:
        raise ConfigError(f"{path}.type", f"unknown {what} type {kind!r}; use one of {', '.join(sorted(table))}")
    return {"type": kind, **table[kind].validate(cfg, ctx, path)}


def validate_trigger(cfg, ctx: HomeContext, path: str = "trigger") -> dict:
    return _dispatch(TRIGGERS, cfg, ctx, path, "trigger")


def validate_conditions(cfgs, ctx: HomeContext, path: str = "conditions") -> list[dict]:
    if not isinstance(cfgs, list):
        raise ConfigError(path, "must be a list")
    if len(cfgs) > 50:
        raise ConfigError(path, "at most 50 conditions")
    # "conditions.0.conditions.1.conditions": and / or / not nest by path.
    if path.split(".").count("conditions") > MAX_NESTING:
        raise ConfigError(path, f"conditions nest at most {MAX_NESTING} deep")
    return [_dispatch(CONDITIONS, c, ctx, f"{path}.{i}", "condition") for i, c in enumerate(cfgs)]


def validate_actions(cfgs, ctx: HomeContext, path: str = "actions", *, allowed: set[str] | None = None) -> list[dict]:
    if not isinstance(cfgs, list) or not cfgs:
        raise ConfigError(path, "must be a non-empty list")
    if len(cfgs) > 50:
        raise ConfigError(path, "at most 50 actions")
    table = ACTIONS if allowed is None else {k: v for k, v in ACTIONS.items() if k in allowed}
    return [_dispatch(table, c, ctx, f"{path}.{i}", "action") for i, c in enumerate(cfgs)]


COMPARATORS = ("equals", "above", "below")


def _comparison(cfg, path, *, required=True) -> dict:
    present = [c for c in COMPARATORS if c in cfg]
    if not present:
        if required:
            raise ConfigError(path, f"needs one of {', '.join(COMPARATORS)}")
        return {}
    if "equals" in present and len(present) > 1:
        raise ConfigError(f"{path}.equals", "cannot be combined with above or below")
    out = {}
    for comparator in present:
        if comparator == "equals":
            value = cfg["equals"]
            if not isinstance(value, (bool, int, float, str)):
                raise ConfigError(f"{path}.equals", "must be a boolean, number or string")
            out["equals"] = value
        else:
            out[comparator] = check_number(cfg, comparator, path)
    if "above" in out and "below" in out and out["above"] >= out["below"]:
        raise ConfigError(f"{path}.below", "must be greater than above")
    return out


def _needs_location(ctx: HomeContext, path: str) -> None:
    if not ctx.has_location():
        raise ConfigError(path, "the home has no location (latitude and longitude) to know its sunrise and sunset")


# --- triggers -----------------------------------------------------------------------------


@trigger("time")
def time_trigger(cfg, ctx, path):
    out = {"at": check_time(require(cfg, "at", path), f"{path}.at")}
    if "days" in cfg:
        out["days"] = check_days(cfg["days"], f"{path}.days")
    return out


@trigger("sun")
def sun_trigger(cfg, ctx, path):
    out = {"event": check_choice(cfg, "event", path, ("sunrise", "sunset"))}
    offset = check_number(cfg, "offset", path, required=False)
    if offset is not None:
        if not -MAX_SUN_OFFSET <= offset <= MAX_SUN_OFFSET:
            raise ConfigError(f"{path}.offset", f"must be between -{MAX_SUN_OFFSET} and {MAX_SUN_OFFSET} seconds")
        out["offset"] = offset
    if "days" in cfg:
        out["days"] = check_days(cfg["days"], f"{path}.days")
    _needs_location(ctx, path)
    return out


def _for(cfg, path, out) -> dict:
    seconds = check_seconds(cfg, "for", path, required=False)
    if seconds is not None:
        out["for"] = seconds
    return out


@trigger("device")
def device_trigger(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device"),
           "attribute": check_attribute(cfg, path)}
    out.update(_comparison(cfg, path, required=False))
    if "from" in cfg:
        value = cfg["from"]
        if not isinstance(value, (bool, int, float, str)):
            raise ConfigError(f"{path}.from", "must be a boolean, number or string")
        out["from"] = value
    if "for" in cfg and not any(c in out for c in COMPARATORS):
        raise ConfigError(f"{path}.for", "needs equals, above or below: what must hold for that long")
    return _for(cfg, path, out)


@trigger("sensor")
def sensor_trigger(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device"),
           "field": check_attribute(cfg, path, key="field", default=None)}
    out.update(_comparison(cfg, path))
    return _for(cfg, path, out)


@trigger("hub")
def hub_trigger(cfg, ctx, path):
    return {"hubId": check_ref(cfg, "hubId", path, ctx.hub_ids, "hub"),
            "status": check_choice(cfg, "status", path, ("online", "offline"))}


@trigger("scene")
def scene_trigger(cfg, ctx, path):
    return {"sceneId": check_ref(cfg, "sceneId", path, ctx.scene_ids, "scene")}


# --- conditions ---------------------------------------------------------------------------


def _nested(cfg, ctx, path):
    conditions = validate_conditions(require(cfg, "conditions", path), ctx, f"{path}.conditions")
    if not conditions:
        raise ConfigError(f"{path}.conditions", "must not be empty")
    return {"conditions": conditions}


condition("and")(_nested)
condition("or")(_nested)
condition("not")(_nested)


@condition("device_state")
def device_state_condition(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device"),
           "attribute": check_attribute(cfg, path)}
    out.update(_comparison(cfg, path))
    return out


@condition("time_window")
def time_window_condition(cfg, ctx, path):
    after = check_time(require(cfg, "after", path), f"{path}.after")
    before = check_time(require(cfg, "before", path), f"{path}.before")
    if after == before:
        raise ConfigError(f"{path}.before", "must differ from after")
    return {"after": after, "before": before}


@condition("day_of_week")
def day_of_week_condition(cfg, ctx, path):
    return {"days": check_days(require(cfg, "days", path), f"{path}.days")}


@condition("sun")
def sun_condition(cfg, ctx, path):
    out = {}
    for key in ("after", "before"):
        value = check_choice(cfg, key, path, ("sunrise", "sunset"), required=False)
        if value is not None:
            out[key] = value
    if not out:
        raise ConfigError(path, "needs after or before (sunrise or sunset)")
    if out.get("after") == out.get("before"):
        raise ConfigError(f"{path}.before", "must differ from after")
    _needs_location(ctx, path)
    return out


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
    return {"seconds": check_seconds(cfg, "seconds", path)}


@action("wait")
def wait_action(cfg, ctx, path):
    out = {"deviceId": check_ref(cfg, "deviceId", path, ctx.device_ids, "device"),
           "attribute": check_attribute(cfg, path)}
    out.update(_comparison(cfg, path))
    out["timeout"] = check_seconds(cfg, "timeout", path)
    return out


@action("notify")
def notify_action(cfg, ctx, path):
    message = require(cfg, "message", path)
    if not isinstance(message, str) or not 0 < len(message) <= 500:
        raise ConfigError(f"{path}.message", "must be a text of 1 to 500 characters")
    severity = cfg.get("severity", "info")
    if severity not in ("info", "warning", "critical"):
        raise ConfigError(f"{path}.severity", "must be info, warning or critical")
    return {"message": message, "severity": severity}
