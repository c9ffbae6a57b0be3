"""Who hears of a hub going online or offline (veahome.observers): its reports through
`mqtt_listen`, its last will, and the heartbeat sweep all tell of it here."""
import datetime
from dataclasses import dataclass

from veahome.observers import Observers


@dataclass(frozen=True)
class HubStatusChange:
    home_id: object
    hub_id: object
    status: str
    previous: str
    ts: datetime.datetime


_observers = Observers()
observe = _observers.observe
notify = _observers.notify
