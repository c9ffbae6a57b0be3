"""What each registry entry compiles to, and the automation compiled once per version.

- A trigger compiles to a `TriggerSpec`: what the trigger index files it under
  (`kind`, `key`), how it matches an event (a device's state change, a telemetry reading, a
  hub's status change, a scene's activation) into a trigger event, whether a `for` trigger
  still holds, and when a time or sun trigger is next due.
- A condition compiles to a checker `(RunContext) -> (result, what it saw)`.
- An action compiles to a `Step` the runtime executes (automations.engine.runtime).

`compile_automation` keeps the result per (automation, updated_at): a saved change compiles
anew, everything else reuses it.
"""
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from automations.timing import next_run_at

from . import sun
from .registry import ACTIONS, CONDITIONS, TRIGGERS, WEEKDAYS

EVERY_DAY = list(WEEKDAYS)


@dataclass
class RunContext:
    """What a run's conditions and steps read: the home, the clock, the trigger event and
    the states of the devices it refers to (loaded once per run, on first use)."""

    home: object
    now: datetime.datetime
    trigger: dict = field(default_factory=dict)
    device_ids: set = field(default_factory=set)
    _states: dict | None = None

    def state_of(self, device_id: str) -> dict | None:
        if self._states is None or device_id not in self._states:
            from devices.models import Device
            from devices.state_changes import snapshot

            ids = (self.device_ids | {device_id}) - set(self._states or {})
            loaded = {str(d.pk): snapshot(d) for d in Device.objects.filter(home_id=self.home.pk, pk__in=ids)
                      .only("pk", "is_active", "value", "state")}
            self._states = {**(self._states or {}), **{i: loaded.get(i) for i in ids}}
        return self._states[device_id]

    def forget(self, device_id: str) -> None:
        if self._states:
            self._states.pop(device_id, None)


# --- comparisons ----------------------------------------------------------------------------


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def comparison(cfg: dict) -> Callable[[object], bool] | None:
    """equals / above / below as a test of one value; None when the document has none."""
    if "equals" in cfg:
        wanted = cfg["equals"]
        if isinstance(wanted, bool) or isinstance(wanted, str):
            return lambda value: value == wanted and type(value) is type(wanted)
        return lambda value: _number(value) is not None and abs(_number(value) - wanted) < 1e-9
    above, below = cfg.get("above"), cfg.get("below")
    if above is None and below is None:
        return None

    def within(value) -> bool:
        number = _number(value)
        return number is not None and (above is None or number > above) and (below is None or number < below)

    return within


# --- triggers -------------------------------------------------------------------------------


@dataclass
class TriggerSpec:
    kind: str
    key: str
    cfg: dict
    for_seconds: float | None = None
    # event -> trigger event (dict) or None; for a `sensor` trigger, (reading, last value).
    match: Callable | None = None
    # Whether the watched value still satisfies the trigger (for `for` timers).
    holds: Callable[[object], bool] | None = None
    # (after, home) -> the next due instant, for time and sun triggers.
    next_at: Callable | None = None
    # The attribute or telemetry field a state change or reading is read at.
    field: str | None = None


@TRIGGERS["time"].compiler
def _time(cfg, path):
    at = datetime.time.fromisoformat(cfg["at"])

    def next_at(after, home):
        return next_run_at(at=at, days=cfg.get("days") or EVERY_DAY, tz=home.timezone, after=after)

    return TriggerSpec(kind="time", key="", cfg=cfg, next_at=next_at)


@TRIGGERS["sun"].compiler
def _sun(cfg, path):
    def next_at(after, home):
        return sun.next_event(home, event=cfg["event"], offset=cfg.get("offset", 0), days=cfg.get("days"),
                              weekdays=WEEKDAYS, after=after)

    return TriggerSpec(kind="sun", key="", cfg=cfg, next_at=next_at)


@TRIGGERS["device"].compiler
def _device(cfg, path):
    attribute, test, origin_value = cfg.get("attribute", "isActive"), comparison(cfg), cfg.get("from")
    has_from = "from" in cfg

    def match(change):
        new = change.state.get(attribute)
        old = change.previous.get(attribute) if change.previous else None
        if change.previous is not None and new == old and type(new) is type(old):
            return None
        if test is not None and (not test(new) or (change.previous is not None and test(old))):
            return None
        if has_from and old != origin_value:
            return None
        return {"kind": "device", "deviceId": str(change.device_id), "attribute": attribute, "value": new,
                "previous": old, "at": change.ts.isoformat(), "origin": change.origin}

    return TriggerSpec(kind="device", key=cfg["deviceId"], cfg=cfg, for_seconds=cfg.get("for"), match=match,
                       holds=test, field=attribute)


@TRIGGERS["sensor"].compiler
def _sensor(cfg, path):
    name, test = cfg["field"], comparison(cfg)

    def match(reading, last):
        value = reading.fields.get(name)
        if value is None or not test(value) or last is None or test(last):
            return None
        return {"kind": "sensor", "deviceId": str(reading.device_id), "field": name, "value": value,
                "previous": last, "at": reading.ts.isoformat()}

    return TriggerSpec(kind="sensor", key=cfg["deviceId"], cfg=cfg, for_seconds=cfg.get("for"), match=match,
                       holds=test, field=name)


@TRIGGERS["hub"].compiler
def _hub(cfg, path):
    def match(change):
        if change.status != cfg["status"]:
            return None
        return {"kind": "hub", "hubId": str(change.hub_id), "value": change.status, "previous": change.previous,
                "at": change.ts.isoformat()}

    return TriggerSpec(kind="hub", key=cfg["hubId"], cfg=cfg, match=match)


@TRIGGERS["scene"].compiler
def _scene(cfg, path):
    def match(activation):
        return {"kind": "scene", "sceneId": activation["sceneId"], "sceneRunId": activation["runId"],
                "value": "activated", "at": activation["at"], "origin": activation.get("origin", "")}

    return TriggerSpec(kind="scene", key=cfg["sceneId"], cfg=cfg, match=match)


# --- conditions -----------------------------------------------------------------------------

Checker = Callable[[RunContext], tuple[bool, object]]


@dataclass
class CompiledCondition:
    kind: str
    path: str
    check: Checker


def compile_conditions(cfgs: list[dict], path: str) -> list[CompiledCondition]:
    return [CompiledCondition(c["type"], f"{path}.{i}", CONDITIONS[c["type"]].compile(c, f"{path}.{i}"))
            for i, c in enumerate(cfgs)]


def _check_until(conditions: list[CompiledCondition], ctx: RunContext, stop_on: bool) -> tuple[bool, list[dict]]:
    """Check in order until one gives `stop_on`: whether one did, and the trace of those checked."""
    trace = []
    for compiled in conditions:
        result, seen = compiled.check(ctx)
        trace.append({"path": compiled.path, "type": compiled.kind, "result": result, "saw": seen})
        if bool(result) is stop_on:
            return True, trace
    return False, trace


def check_all(conditions: list[CompiledCondition], ctx: RunContext) -> tuple[bool, list[dict]]:
    """Every condition in order until one is false; the trace of those checked."""
    stopped, trace = _check_until(conditions, ctx, False)
    return not stopped, trace


def _combined(cfg, path, *, stop_on: bool, result_at_stop: bool):
    """and / or / not over nested conditions: when one of them gives `stop_on` the result is
    `result_at_stop`, otherwise its opposite."""
    children = compile_conditions(cfg["conditions"], f"{path}.conditions")

    def check(ctx):
        stopped, trace = _check_until(children, ctx, stop_on)
        return (result_at_stop if stopped else not result_at_stop), trace

    return check


CONDITIONS["and"].compiler(lambda cfg, path: _combined(cfg, path, stop_on=False, result_at_stop=False))
CONDITIONS["or"].compiler(lambda cfg, path: _combined(cfg, path, stop_on=True, result_at_stop=True))
# not: true when none of its conditions holds.
CONDITIONS["not"].compiler(lambda cfg, path: _combined(cfg, path, stop_on=True, result_at_stop=False))


@CONDITIONS["device_state"].compiler
def _device_state(cfg, path):
    device_id, attribute, test = cfg["deviceId"], cfg.get("attribute", "isActive"), comparison(cfg)

    def check(ctx):
        state = ctx.state_of(device_id)
        if state is None:
            return False, "device deleted"
        value = state.get(attribute)
        return test(value), value

    return check


def _window(now_value, after, before) -> bool:
    """after <= now < before, or across midnight when after is later than before."""
    if after <= before:
        return after <= now_value < before
    return now_value >= after or now_value < before


@CONDITIONS["time_window"].compiler
def _time_window(cfg, path):
    after, before = datetime.time.fromisoformat(cfg["after"]), datetime.time.fromisoformat(cfg["before"])

    def check(ctx):
        local = ctx.now.astimezone(ctx.home.tz).time().replace(microsecond=0)
        return _window(local, after, before), local.isoformat()

    return check


@CONDITIONS["day_of_week"].compiler
def _day_of_week(cfg, path):
    days = set(cfg["days"])

    def check(ctx):
        name = WEEKDAYS[ctx.now.astimezone(ctx.home.tz).weekday()]
        return name in days, name

    return check


@CONDITIONS["sun"].compiler
def _sun_condition(cfg, path):
    after, before = cfg.get("after"), cfg.get("before")

    def check(ctx):
        where = sun.location(ctx.home)
        if where is None:
            return False, "no location"
        day = ctx.now.astimezone(ctx.home.tz).date()
        times = {e: sun.sun_event(*where, day, e, ctx.home.timezone) for e in ("sunrise", "sunset")}
        seen = {"now": ctx.now.isoformat(), **{e: t.isoformat() if t else None for e, t in times.items()}}
        if any(t is None for t in times.values()):
            # Polar day or night: the sun is where it is all day.
            up = sun.is_up(ctx.home, ctx.now)
            wanted_up = (after == "sunrise") or (before == "sunset")
            return up == wanted_up, seen
        if after and before:
            return _window(ctx.now, times[after], times[before]), seen
        if after:
            return ctx.now >= times[after], seen
        return ctx.now < times[before], seen

    return check


# --- actions --------------------------------------------------------------------------------


@dataclass
class Step:
    kind: str
    path: str
    cfg: dict


def _step(cfg, path):
    return Step(cfg["type"], path, cfg)


for _entry in ACTIONS.values():
    _entry.compiler(_step)


# --- the automation -------------------------------------------------------------------------


@dataclass
class CompiledAutomation:
    trigger: TriggerSpec
    conditions: list[CompiledCondition]
    steps: list[Step]
    device_ids: set


def compile_trigger(cfg: dict) -> TriggerSpec:
    return TRIGGERS[cfg["type"]].compile(cfg, "trigger")


class _Versions:
    """Compiled objects by (automation id, updated_at): a saved automation compiles anew."""

    def __init__(self, size: int):
        self.size, self.items = size, {}

    def peek(self, automation_id, updated_at):
        return self.items.get((automation_id, updated_at))

    def get(self, automation_id, updated_at, build):
        key = (automation_id, updated_at)
        found = self.items.get(key)
        if found is None:
            if len(self.items) >= self.size:
                self.items.clear()
            found = self.items[key] = build()
        return found


_automations = _Versions(20_000)
_triggers = _Versions(100_000)


def _build(automation) -> CompiledAutomation:
    device_ids = set()

    def collect(cfgs):
        for cfg in cfgs:
            if "deviceId" in cfg:
                device_ids.add(cfg["deviceId"])
            collect(cfg.get("conditions", []))

    collect(automation.conditions or [])
    collect(automation.actions)
    return CompiledAutomation(trigger=compile_trigger(automation.trigger),
                              conditions=compile_conditions(automation.conditions or [], "conditions"),
                              steps=[ACTIONS[c["type"]].compile(c, f"actions.{i}")
                                     for i, c in enumerate(automation.actions)],
                              device_ids=device_ids)


def compile_automation(automation) -> CompiledAutomation:
    """The automation compiled, once per saved version."""
    return _automations.get(automation.pk, automation.updated_at, lambda: _build(automation))


def trigger_of(automation_id, updated_at, trigger_cfg: dict) -> TriggerSpec:
    """A trigger compiled once per automation version (the matching path reads only this)."""
    return _triggers.get(automation_id, updated_at, lambda: compile_trigger(trigger_cfg))


def trigger_cached(automation_id, version) -> TriggerSpec | None:
    """The trigger of that automation version if this process has compiled it already."""
    return _triggers.peek(automation_id, version)
