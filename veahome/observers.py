"""A list of observers one app notifies and others register with at start-up (AppConfig.ready).

The notifying app does not import its observers: devices and hubs tell of their changes, and
automations and scenes listen. Observers are called inside the transaction that made the
changes, with the whole list at once, so an observer does one lookup for a listener batch;
one that has more to do than read and write rows defers it with `transaction.on_commit`.
"""
from collections.abc import Callable


class Observers:
    def __init__(self):
        self._observers: list[Callable[[list], None]] = []

    def observe(self, observer: Callable[[list], None]) -> Callable[[list], None]:
        if observer not in self._observers:
            self._observers.append(observer)
        return observer

    def notify(self, changes: list) -> None:
        if changes:
            for observer in self._observers:
                observer(changes)
