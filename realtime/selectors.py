"""Reads for the live feed: the home's current state, stamped with the newest event id."""
from django.db.models import Prefetch

from devices.models import Device
from homes.models import Home, Room
from hubs.models import Hub, HubRoom
from veahome import redis_store

from .events import last_event_id, presence_keys


def online_user_ids(home_id) -> list[str]:
    return sorted(u.decode() for u in redis_store.feed().hkeys(presence_keys(home_id)[1]))


def home_snapshot(home: Home) -> dict:
    """Rooms, hubs and devices of the home, as of event `lastEventId` or later.

    The id is read first: every event up to it was published after its transaction
    committed, so the rows read next already contain its change. A client that subscribes
    with this id receives every later event; applying one it already sees here is harmless
    because events carry the new state.
    """
    event_id = last_event_id(home.pk)
    rooms = list(Room.objects.in_home(home).order_by("created_at"))
    hubs = list(
        Hub.objects.in_home(home)
        .prefetch_related(Prefetch("room_slots", queryset=HubRoom.objects.order_by("slot")))
        .order_by("created_at")
    )
    devices = list(Device.objects.in_home(home).order_by("created_at"))
    return {
        "last_event_id": event_id,
        "home": home,
        "rooms": rooms,
        "hubs": hubs,
        "devices": devices,
        "online": online_user_ids(home.pk),
    }
