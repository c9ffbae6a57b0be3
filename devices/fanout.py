"""Control of many devices at once: a group, a scene, a schedule's or an automation's actions.

Every command goes the way of a person's tap (capabilities, command row, hub publisher,
`command:status`) through `devices.services.devices_control_many`, inside the caller's
transaction: the messages leave together when it commits. A device that cannot take its part is
an outcome with a reason, never an error that stops the others:

- `device_deleted`: the device is no longer in the home;
- `hub_offline`: its hub is not online, so the command would only expire;
- `not_controllable`, `no_hub`, `signal_not_learned`, `not_supported`: what control
  itself refuses (a sensor, a device without a hub, an IR/RF signal never learned, a
  state the device type cannot take).
"""
import uuid
from dataclasses import dataclass

from django.db import transaction

from hubs.models import Hub
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError

from . import services as device_services
from .models import Command, Device, DeviceGroup, DeviceGroupMember

# The parts of a stored state that control takes; the rest (mode, color) are kept for the
# app but not sent.
CONTROL_KEYS = ("isActive", "value")


@dataclass
class Target:
    device_id: str
    state: dict


def outcome(device_id, *, command=None, skipped: str | None = None, message: str = "") -> dict:
    return {"deviceId": str(device_id), "commandId": str(command.pk) if command else None,
            "skipped": skipped, "message": message}


def control_request(state: dict) -> dict:
    return {key: state[key] for key in CONTROL_KEYS if key in state}


def control_devices(*, home_id, targets: list[Target], actor=None, origin: str = "") -> list[dict]:
    """Send each target its state; one outcome per target, in order. Call inside a transaction:
    the commands are recorded together and leave together when it commits
    (devices.services.devices_control_many). `origin` marks them (Command.origin)."""
    return control_devices_many(targets=[(home_id, target) for target in targets], actor=actor, origin=origin)


def control_devices_many(*, targets: list[tuple[object, Target]], actor=None, origin: str = "") -> list[dict]:
    """`control_devices` for (home id, target) pairs of many homes at once (a schedule tick's
    batch): one read of their devices and one `devices_control_many` for all of them. A device
    outside the home its target names is `device_deleted` for that target."""
    ids = set()
    for _home_id, target in targets:
        try:
            ids.add(uuid.UUID(str(target.device_id)))
        except ValueError:
            continue
    devices = {str(d.pk): d for d in Device.objects.filter(pk__in=ids).select_related("hub")} if ids else {}
    outcomes: list[dict | None] = []
    requests, places = [], []
    for home_id, target in targets:
        device = devices.get(str(target.device_id))
        if device is None or str(device.home_id) != str(home_id):
            outcomes.append(outcome(target.device_id, skipped="device_deleted", message="The device was deleted."))
            continue
        if device.hub is not None and device.hub.status != Hub.Status.ONLINE:
            outcomes.append(outcome(device.pk, skipped="hub_offline", message=f"Its hub is {device.hub.status}."))
            continue
        request = control_request(target.state)
        if not request:
            outcomes.append(outcome(device.pk, skipped="not_supported", message="Nothing in the state can be sent."))
            continue
        places.append(len(outcomes))
        outcomes.append(None)
        requests.append((device, request))
    results = device_services.devices_control_many(requests=requests, actor=actor, origin=origin) if requests else []
    for place, (device, _request), result in zip(places, requests, results):
        if isinstance(result, ApplicationError):
            reason = "not_supported" if result.code == ApiError.INVALID else result.code.value
            outcomes[place] = outcome(device.pk, skipped=reason, message=str(result.message))
        else:
            outcomes[place] = outcome(device.pk, command=result)
    return outcomes


@transaction.atomic
def group_control(*, group: DeviceGroup, request: dict, actor=None) -> list[dict]:
    """The same control request for every member of the group; one outcome per member."""
    members = DeviceGroupMember.objects.filter(group=group).order_by("device_id").values_list("device_id", flat=True)
    return control_devices(home_id=group.home_id, targets=[Target(str(pk), request) for pk in members], actor=actor)


def command_statuses(outcome_lists) -> dict[str, str]:
    """The current status of every command the outcomes name, in one query."""
    ids = {o["commandId"] for outcomes in outcome_lists for o in outcomes if o.get("commandId")}
    return {str(pk): status for pk, status in Command.objects.filter(pk__in=ids).values_list("pk", "status")} if ids else {}


def with_status(outcomes: list[dict], statuses: dict[str, str]) -> list[dict]:
    """Outcomes as the app sees them: `status` is the command's now, or `skipped`."""
    shown = []
    for item in outcomes:
        command_id = item.get("commandId")
        status = statuses.get(command_id, "unknown") if command_id else "skipped"
        shown.append({**item, "status": status})
    return shown
