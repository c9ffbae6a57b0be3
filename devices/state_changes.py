"""Who hears of a device's new state: observers called inside the transaction that writes it.

Every path that lands a state on a device (a hub's report through `mqtt_listen`, an
assumed IR/RF command, an edit through the API) hands its changes here once per
transaction, as a list, so an observer does one lookup for a whole listener batch. Other
apps register at start-up (their AppConfig.ready): scenes check whether they still hold,
automations look up the triggers that listen to the device. An observer that needs to do
more than read and write rows defers it with `transaction.on_commit`.
"""
import datetime
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class StateChange:
    home_id: object
    device_id: object
    # The device's state after the change: {isActive, value, ...the state document}.
    state: dict
    # The same before it (None for a device that had never reported).
    previous: dict | None
    ts: datetime.datetime


Observer = Callable[[list[StateChange]], None]
_observers: list[Observer] = []


def observe(observer: Observer) -> Observer:
    if observer not in _observers:
        _observers.append(observer)
    return observer


def notify(changes: list[StateChange]) -> None:
    if changes:
        for observer in _observers:
            observer(changes)


def snapshot(device) -> dict:
    """A device's current state as observers see it (a model instance or the listener's row)."""
    value = float(device.value) if device.value is not None else None
    return {**(device.state or {}), "isActive": device.is_active, "value": value}
