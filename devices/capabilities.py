"""What each device type can do: the control it accepts, the values it reports, and how a
control request becomes the MQTT payload (or the IR/RF actions) a hub understands.

A registry keyed by device type; every rule about a type lives in its entry.
"""
from dataclasses import dataclass, field
from decimal import Decimal

from devices.errors import DeviceError
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError

from .models import Device, DeviceCategory, DeviceType

# Devices driven by a learned remote signal: the hub transmits and never hears back.
SIGNAL_CATEGORIES = frozenset({DeviceCategory.IR, DeviceCategory.RF})

# Telemetry the hubs may send, with the range a plausible reading falls in.
TELEMETRY_FIELDS: dict[str, tuple[float, float]] = {
    "power": (0, 100_000),  # W
    "energy": (0, 1e7),  # Wh consumed since the device's previous telemetry report
    "voltage": (0, 500),  # V
    "current": (0, 200),  # A
    "temperature": (-60, 120),  # °C
    "humidity": (0, 100),  # % RH
    "motion": (0, 1),  # 1 when motion was seen
    "battery": (0, 100),  # %
    "illuminance": (0, 200_000),  # lux
    "co2": (0, 50_000),  # ppm
    "smoke": (0, 1),  # 1 while the detector senses smoke
    "leak": (0, 1),  # 1 while the sensor is wet
}


@dataclass(frozen=True)
class Capability:
    """One device type's abilities."""

    power: bool = True  # takes isActive on/off
    value: str | None = None  # what `value` means: brightness, setpoint, position, volume
    value_range: tuple[float, float] | None = None
    unit: str = ""
    on_off: tuple[str, str] = ("ON", "OFF")  # action names for isActive true / false
    value_action: str = "SET"  # action for a value change on a device that reports back
    # IR/RF: actions for a value above / below the current one (the seed's TEMP_UP/TEMP_DOWN).
    step_actions: tuple[str, str] | None = None
    # Ranges a state report may carry (wider than what control accepts, e.g. a sensor).
    reported_range: tuple[float, float] | None = None
    telemetry: tuple[str, ...] = field(default_factory=tuple)

    @property
    def controllable(self) -> bool:
        return self.power or self.value is not None

    def reportable_range(self) -> tuple[float, float] | None:
        return self.reported_range or self.value_range


CAPABILITIES: dict[str, Capability] = {
    DeviceType.LIGHT: Capability(value="brightness", value_range=(0, 100), unit="%",
                                 telemetry=("power", "energy")),
    DeviceType.THERMOSTAT: Capability(value="setpoint", value_range=(5, 35), unit="°C",
                                      step_actions=("TEMP_UP", "TEMP_DOWN"),
                                      telemetry=("temperature", "humidity", "power", "energy")),
    DeviceType.AC: Capability(value="setpoint", value_range=(16, 30), unit="°C",
                              step_actions=("TEMP_UP", "TEMP_DOWN"),
                              telemetry=("temperature", "humidity", "power", "energy")),
    DeviceType.TV: Capability(value="volume", value_range=(0, 100), step_actions=("VOL_UP", "VOL_DOWN"),
                              telemetry=("power", "energy")),
    DeviceType.SPEAKER: Capability(value="volume", value_range=(0, 100), step_actions=("VOL_UP", "VOL_DOWN"),
                                   telemetry=("power", "energy")),
    DeviceType.BLIND: Capability(value="position", value_range=(0, 100), unit="%", on_off=("OPEN", "CLOSE"),
                                 step_actions=("UP", "DOWN"), telemetry=("battery",)),
    DeviceType.SHUTTER: Capability(value="position", value_range=(0, 100), unit="%", on_off=("OPEN", "CLOSE"),
                                   step_actions=("UP", "DOWN"), telemetry=("power", "energy")),
    # isActive is "locked".
    DeviceType.LOCK: Capability(on_off=("LOCK", "UNLOCK"), telemetry=("battery",)),
    DeviceType.CAMERA: Capability(telemetry=("motion", "power", "energy")),
    DeviceType.SENSOR: Capability(power=False, reported_range=(-100_000, 1_000_000),
                                  telemetry=("temperature", "humidity", "motion", "battery", "illuminance", "co2",
                                             "smoke", "leak")),
}


def capability(device_type: str) -> Capability:
    return CAPABILITIES[device_type]


@dataclass(frozen=True)
class Plan:
    """A validated control request: the state asked for and what goes to the hub."""

    desired: dict
    payload: dict  # the MQTT control payload without commandId
    reports_back: bool


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ApplicationError(ApiError.INVALID, f"{name} must be a number.", fields={name: ["must be a number"]})
    return float(value)


def plan_control(device: Device, request: dict) -> Plan:
    """Check `request` ({isActive?, value?}) against the device's abilities and signals."""
    cap = capability(device.type)
    if not cap.controllable:
        raise ApplicationError(DeviceError.NOT_CONTROLLABLE, f"A {device.type} cannot be controlled.")
    if device.hub_id is None:
        raise ApplicationError(DeviceError.NO_HUB, "The device is not attached to a hub.")
    unknown = sorted(set(request) - {"isActive", "value"})
    if unknown:
        raise ApplicationError(ApiError.INVALID, f"Unknown field {unknown[0]}.",
                               fields={k: ["unknown field"] for k in unknown})
    if "isActive" not in request and "value" not in request:
        raise ApplicationError(ApiError.INVALID, "Give isActive or value.",
                               fields={"isActive": ["isActive or value is required"]})

    desired: dict = {}
    steps: list[tuple[str, float | None]] = []
    if "isActive" in request:
        if not cap.power:
            raise ApplicationError(ApiError.INVALID, f"A {device.type} has no on/off.",
                                   fields={"isActive": ["not supported by this device type"]})
        if not isinstance(request["isActive"], bool):
            raise ApplicationError(ApiError.INVALID, "isActive must be true or false.",
                                   fields={"isActive": ["must be a boolean"]})
        desired["isActive"] = request["isActive"]
        steps.append((cap.on_off[0] if request["isActive"] else cap.on_off[1], None))
    if "value" in request:
        if cap.value is None:
            raise ApplicationError(ApiError.INVALID, f"A {device.type} takes no value.",
                                   fields={"value": ["not supported by this device type"]})
        value = _number(request["value"], "value")
        low, high = cap.value_range
        if not low <= value <= high:
            raise ApplicationError(ApiError.INVALID, f"{cap.value} must be between {low:g} and {high:g}.",
                                   fields={"value": [f"{cap.value} must be between {low:g} and {high:g}"]})
        desired["value"] = value
        steps.append((cap.value_action, value))

    if device.category in SIGNAL_CATEGORIES:
        return _signal_plan(device, cap, desired, steps)
    action, _ = steps[0]
    payload = {"action": cap.value_action if "value" in desired and "isActive" not in desired else action}
    if "value" in desired:
        payload["value"] = desired["value"]
    return Plan(desired=desired, payload=payload, reports_back=True)


def _signal_plan(device: Device, cap: Capability, desired: dict, steps) -> Plan:
    """IR/RF: every step must have a learned signal; a missing one is a 409 naming it."""
    actions = []
    for action, value in steps:
        if value is not None:
            if cap.step_actions is None:
                raise ApplicationError(ApiError.INVALID, f"This {device.type} cannot set a value by remote.",
                                       fields={"value": ["not supported for IR/RF devices of this type"]})
            current = float(device.value) if device.value is not None else None
            # The seed's rule: a remote only steps up or down from where the device is.
            action = cap.step_actions[0] if current is None or value > current else cap.step_actions[1]
        actions.append(action)
    mappings = device.signal_mappings or {}
    missing = [a for a in actions if not mappings.get(a)]
    if missing:
        raise ApplicationError(
            DeviceError.SIGNAL_NOT_LEARNED,
            f"No learned signal for {', '.join(missing)}; learn it first.",
            fields={"action": missing},
        )
    payload = {"action": actions[-1], "signal": mappings[actions[-1]]}
    if "value" in desired:
        payload["value"] = desired["value"]
    if len(actions) > 1:
        payload["steps"] = [{"action": a, "signal": mappings[a]} for a in actions]
    return Plan(desired=desired, payload=payload, reports_back=False)


def check_reported_state(device_type: str, state: dict) -> str | None:
    """Why a reported state is unacceptable, or None."""
    if "isActive" in state and not isinstance(state["isActive"], bool):
        return "isActive is not a boolean"
    if state.get("value") is not None:
        value = state["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "value is not a number"
        bounds = capability(device_type).reportable_range()
        if bounds and not bounds[0] <= value <= bounds[1]:
            return f"value {value} outside {bounds[0]:g}..{bounds[1]:g}"
    return None


def clean_telemetry(payload: dict) -> tuple[dict, str | None]:
    """The known numeric telemetry fields of a payload, or a reason to refuse it."""
    fields = {}
    for name, (low, high) in TELEMETRY_FIELDS.items():
        if name not in payload or payload[name] is None:
            continue
        value = payload[name]
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float)):
            return {}, f"{name} is not a number"
        if not low <= value <= high:
            return {}, f"{name} {value} outside {low:g}..{high:g}"
        fields[name] = float(value)
    if not fields:
        return {}, "no known telemetry field"
    return fields, None
