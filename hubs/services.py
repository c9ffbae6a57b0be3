"""Every write to hubs and their room slots."""
from django.db import transaction

from homes.models import Room
from realtime import publish
from veahome.errors import ApplicationError

from .models import Hub, HubRoom

MAX_ROOMS_PER_HUB = len(HubRoom.SLOTS)


def hub_event(hub: Hub) -> dict:
    return {
        "hubId": str(hub.pk),
        "status": hub.status,
        "wifiConnected": hub.wifi_connected,
        "lastSeenAt": hub.last_seen_at.isoformat() if hub.last_seen_at else None,
    }


@transaction.atomic
def hub_rooms_assign(*, hub: Hub, rooms: list[Room]) -> list[HubRoom]:
    """Give the hub exactly these rooms (replacing the previous ones), in slot order."""
    if len(rooms) > MAX_ROOMS_PER_HUB:
        raise ApplicationError(
            "hub_room_limit",
            f"A hub serves at most {MAX_ROOMS_PER_HUB} rooms.",
            fields={"roomIds": [f"at most {MAX_ROOMS_PER_HUB}"]},
        )
    if len({r.pk for r in rooms}) != len(rooms):
        raise ApplicationError("duplicate_room", "A room is listed twice.", fields={"roomIds": ["duplicate"]}, status_code=400)
    foreign = [str(r.pk) for r in rooms if r.home_id != hub.home_id]
    if foreign:
        raise ApplicationError("room_not_in_home", "Rooms must belong to the hub's home.", fields={"roomIds": foreign}, status_code=400)
    # Lock the hub row so two concurrent assignments serialise instead of racing on slots.
    Hub.objects.select_for_update().filter(pk=hub.pk).first()
    HubRoom.objects.filter(hub=hub).delete()
    slots = HubRoom.objects.bulk_create(
        [HubRoom(hub=hub, room=room, home_id=hub.home_id, slot=index) for index, room in enumerate(rooms, start=1)]
    )
    publish(hub.home_id, "hub:rooms", {"hubId": str(hub.pk), "roomIds": [str(r.pk) for r in rooms]})
    return slots


@transaction.atomic
def hub_update(*, hub: Hub, **fields) -> Hub:
    for key, value in fields.items():
        setattr(hub, key, value)
    hub.save()
    publish(hub.home_id, "hub:update", hub_event(hub) | {"name": hub.name})
    return hub
