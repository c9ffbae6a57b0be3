"""The alert kinds: what each watches, its defaults, the settings a home may change.

A kind that watches telemetry names its field and says, for a reading, whether the cause is
present (True), has cleared (False) or neither (None: between the raise and clear thresholds,
so a value hovering at the limit does not raise and resolve over and over).

Every kind's rule has `enabled`, `severity`, `delaySeconds` (how long the cause must last
before the alert is raised; 0 raises at once) and its own numeric `params`.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from .models import Severity, Source


@dataclass(frozen=True)
class Param:
    default: float
    low: float
    high: float
    help: str


@dataclass(frozen=True)
class Kind:
    name: str
    source: str
    severity: str
    title: str  # with {device} / {hub} / {value}
    delay_seconds: int = 0
    params: dict[str, Param] = field(default_factory=dict)
    # Telemetry kinds: the field read, and (params, value) -> present / cleared / neither.
    field: str | None = None
    detect: Callable[[dict, float], bool | None] | None = None


def _flag(params: dict, value: float) -> bool:
    return value >= 1


def _below(params: dict, value: float) -> bool | None:
    if value < params["below"]:
        return True
    return False if value >= params["clear_above"] else None


def _above(params: dict, value: float) -> bool | None:
    if value > params["above"]:
        return True
    return False if value <= params["clear_below"] else None


KINDS: dict[str, Kind] = {kind.name: kind for kind in [
    Kind("smoke", Source.DEVICE, Severity.CRITICAL, "Smoke detected by {device}", field="smoke", detect=_flag),
    Kind("water_leak", Source.DEVICE, Severity.CRITICAL, "Water leak detected by {device}", field="leak",
         detect=_flag),
    Kind("battery_low", Source.DEVICE, Severity.WARNING, "{device}: battery at {value:g} %", field="battery",
         detect=_below, params={
             "below": Param(15, 1, 99, "Raise when the battery reads below this (%)."),
             "clear_above": Param(20, 1, 100, "Resolve when it reads this or more (%)."),
         }),
    Kind("temperature_high", Source.DEVICE, Severity.WARNING, "{device}: {value:g} °C", field="temperature",
         detect=_above, params={
             "above": Param(40, -50, 120, "Raise above this (°C)."),
             "clear_below": Param(38, -50, 120, "Resolve at or below this (°C)."),
         }),
    Kind("temperature_low", Source.DEVICE, Severity.WARNING, "{device}: {value:g} °C", field="temperature",
         detect=_below, params={
             "below": Param(5, -50, 120, "Raise below this (°C)."),
             "clear_above": Param(7, -50, 120, "Resolve at or above this (°C)."),
         }),
    Kind("hub_offline", Source.HUB, Severity.WARNING, "Hub {hub} is offline", delay_seconds=300),
    # A device posting over HTTP (no hub) not heard from (heartbeat or readings), by alerts.check_devices.
    Kind("device_silent", Source.DEVICE, Severity.WARNING, "{device} has not reported for {value:g} minutes",
         params={"after_minutes": Param(15, 1, 1440, "Raise when not heard from for this long (minutes).")}),
    # The home's monthly energy budget (energy.selectors.budget_status), checked by alerts.check_budgets.
    Kind("budget_exceeded", Source.ENERGY, Severity.WARNING, "Energy budget exceeded: {value:g} % used"),
    Kind("budget_forecast", Source.ENERGY, Severity.INFO,
         "Energy budget on course to be exceeded: {value:g} % by the end of the month", params={
             "after_days": Param(5, 0, 27, "Forecast only after this many days of the month (too little data before)."),
         }),
]}

# The telemetry fields some kind reads, and the kinds that read each.
BY_FIELD: dict[str, list[Kind]] = {}
for _kind in KINDS.values():
    if _kind.field:
        BY_FIELD.setdefault(_kind.field, []).append(_kind)

MAX_DELAY_SECONDS = 86_400


def default_params(kind: Kind) -> dict:
    return {name: param.default for name, param in kind.params.items()}


def dedupe_key(source: str, source_id, kind: str) -> str:
    return f"{source}:{source_id or '-'}:{kind}"
