"""Who hears of a device's new state: observers called inside the transaction that writes it.

Every path that lands a state on a device (a hub's report through `mqtt_listen`, an
assumed IR/RF command, an edit through the API) hands its changes here once per
transaction, as a list (veahome.observers): scenes check whether they still hold, automations
look up the triggers that listen to the device.
"""
import datetime
from dataclasses import dataclass

from veahome.observers import Observers


@dataclass(frozen=True)
class StateChange:
    home_id: object
    device_id: object
    # The device's state after the change: {isActive, value, ...the state document}.
    state: dict
    # The same before it (None for a device that had never reported).
    previous: dict | None
    ts: datetime.datetime
    # The command this state answers, when it does, and that command's origin
    # ("automation:<id>", "schedule:<id>"; blank for a person's tap).
    command_id: object = None
    origin: str = ""


_observers = Observers()
# observe(fn): fn(list[StateChange]) is called for every transaction that lands states.
observe = _observers.observe
notify = _observers.notify


@dataclass(frozen=True)
class Reading:
    """A device's telemetry sample, newest for that device (late, buffered samples are not told)."""

    home_id: object
    device_id: object
    fields: dict
    ts: datetime.datetime


_readers = Observers()
# observe_readings(fn): fn(list[Reading]) for every transaction that lands telemetry.
observe_readings = _readers.observe
notify_readings = _readers.notify


def snapshot(device) -> dict:
    """A device's current state as observers see it (a model instance or the listener's row)."""
    value = float(device.value) if device.value is not None else None
    return {**(device.state or {}), "isActive": device.is_active, "value": value}
