"""How each simulated device type behaves: its state, how a command changes it, and the
telemetry a real one of its kind would send."""
import math
import random
import time
from dataclasses import dataclass, field

from devices.capabilities import SIGNAL_CATEGORIES, capability

# Rated power when on, in watts, per device type.
RATED_WATTS = {
    "light": 9.0, "thermostat": 4.0, "ac": 1100.0, "tv": 95.0, "speaker": 12.0,
    "blind": 0.0, "shutter": 60.0, "lock": 0.2, "camera": 4.5, "sensor": 0.0,
}


@dataclass
class SimDevice:
    id: str
    type: str
    category: str
    is_active: bool = False
    value: float | None = None
    energy_wh: float = 0.0
    temperature: float = 21.0
    humidity: float = 45.0
    battery: float = 100.0
    last_tick: float = field(default_factory=time.monotonic)

    @property
    def reports_back(self) -> bool:
        return self.category not in SIGNAL_CATEGORIES

    def state(self) -> dict:
        state = {"isActive": self.is_active}
        if self.value is not None:
            state["value"] = round(self.value, 2)
        return state

    def apply(self, command: dict) -> None:
        """Carry out a control payload ({action, value?, steps?}) as the hardware would."""
        cap = capability(self.type)
        actions = [s["action"] for s in command.get("steps", [])] or [command.get("action")]
        for action in actions:
            if action == cap.on_off[0]:
                self.is_active = True
            elif action == cap.on_off[1]:
                self.is_active = False
            elif cap.step_actions and action in cap.step_actions:
                # A remote steps one notch; the cloud's value is where it was heading.
                step = 1 if action == cap.step_actions[0] else -1
                self.value = command.get("value", (self.value or 0) + step)
        if "value" in command and command.get("action") in (cap.value_action, cap.on_off[0]):
            self.value = float(command["value"])
            if self.type in ("light", "speaker") and self.value > 0:
                self.is_active = True

    def wander(self, rng: random.Random) -> bool:
        """Drift like a real device between commands; True if the reportable state changed."""
        if self.type == "sensor":
            self.value = round(21 + 2 * math.sin(time.time() / 600) + rng.uniform(-0.2, 0.2), 1)
            return True
        if self.type == "thermostat" and self.is_active and self.value is not None:
            self.temperature += (self.value - self.temperature) * 0.05 + rng.uniform(-0.05, 0.05)
        if self.type == "light" and rng.random() < 0.02:
            self.is_active = not self.is_active
            return True
        return False

    def telemetry(self, rng: random.Random) -> dict:
        now = time.monotonic()
        hours, self.last_tick = (now - self.last_tick) / 3600, now
        rated = RATED_WATTS.get(self.type, 0.0)
        if self.type == "light" and self.value is not None:
            rated *= max(self.value, 5) / 100
        power = rated * rng.uniform(0.93, 1.07) if self.is_active else (0.4 if rated else 0.0)
        self.energy_wh = power * hours  # since the previous report
        self.temperature += rng.uniform(-0.1, 0.1)
        self.humidity = min(90.0, max(20.0, self.humidity + rng.uniform(-0.5, 0.5)))
        data: dict = {}
        fields = capability(self.type).telemetry
        if "power" in fields:
            data["power"] = round(power, 2)
        if "energy" in fields:
            data["energy"] = round(self.energy_wh, 6)
        if "temperature" in fields:
            data["temperature"] = round(self.temperature, 2)
        if "humidity" in fields:
            data["humidity"] = round(self.humidity, 1)
        if "motion" in fields:
            data["motion"] = 1 if rng.random() < 0.05 else 0
        if "battery" in fields:
            self.battery = max(1.0, self.battery - rng.uniform(0, 0.001))
            data["battery"] = round(self.battery, 1)
        if "illuminance" in fields:
            data["illuminance"] = round(max(0.0, 300 + 250 * math.sin(time.time() / 3600) + rng.uniform(-20, 20)), 1)
        if "co2" in fields:
            data["co2"] = round(rng.uniform(420, 900))
        return data
