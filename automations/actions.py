"""Running validated actions (automations.engine.registry) against a home's devices.

Every action reaches devices through `devices.fanout`, the control path of a person's tap,
inside the caller's transaction: the commands leave when it commits. One outcome per
action, in order:

    {"type": "scene", "sceneId": …, "sceneRunId": …, "skipped": null, "devices": [device outcomes]}
    {"type": "device", "deviceId": …, "skipped": null, "devices": [one device outcome]}
    {"type": "group", "groupId": …, "skipped": "group_deleted", "devices": []}

`skipped` on the action says why it did nothing at all (its scene or group was deleted);
each device outcome says what became of that device (devices.fanout).
"""
from collections.abc import Callable

from devices import fanout
from devices.models import DeviceGroup, DeviceGroupMember

from .models import Scene, Source

Executor = Callable[..., dict]
EXECUTORS: dict[str, Executor] = {}


def executor(kind: str):
    def register(fn: Executor) -> Executor:
        EXECUTORS[kind] = fn
        return fn

    return register


@executor("device")
def _device(*, home_id, action: dict, source: str, actor=None, origin: str = "") -> dict:
    outcomes = fanout.control_devices(home_id=home_id, targets=[fanout.Target(action["deviceId"], action["state"])],
                                      actor=actor, origin=origin)
    return {"deviceId": action["deviceId"], "skipped": None, "devices": outcomes}


@executor("group")
def _group(*, home_id, action: dict, source: str, actor=None, origin: str = "") -> dict:
    group = DeviceGroup.objects.filter(home_id=home_id, pk=action["groupId"]).first()
    if group is None:
        return {"groupId": action["groupId"], "skipped": "group_deleted", "devices": []}
    members = DeviceGroupMember.objects.filter(group=group).order_by("device_id").values_list("device_id", flat=True)
    targets = [fanout.Target(str(pk), action["state"]) for pk in members]
    return {"groupId": action["groupId"], "skipped": None,
            "devices": fanout.control_devices(home_id=home_id, targets=targets, actor=actor, origin=origin)}


@executor("scene")
def _scene(*, home_id, action: dict, source: str, actor=None, origin: str = "") -> dict:
    from . import services

    scene = Scene.objects.filter(home_id=home_id, pk=action["sceneId"]).first()
    if scene is None:
        return {"sceneId": action["sceneId"], "skipped": "scene_deleted", "devices": []}
    run = services.scene_activate(scene=scene, actor=actor, source=source, origin=origin)
    return {"sceneId": action["sceneId"], "sceneRunId": str(run.pk), "skipped": None, "devices": run.outcomes}


def run_actions(*, home_id, actions: list[dict], source: str = Source.SCHEDULE, actor=None,
                origin: str = "") -> list[dict]:
    """Run each action in order; one outcome per action. Call inside a transaction."""
    return [{"type": action["type"], **EXECUTORS[action["type"]](home_id=home_id, action=action, source=source,
                                                                 actor=actor, origin=origin)}
            for action in actions]


def with_status(outcomes: list[dict], statuses: dict[str, str]) -> list[dict]:
    """Action outcomes with each device's command status now (devices.fanout.with_status)."""
    return [{**item, "devices": fanout.with_status(item.get("devices", []), statuses)} for item in outcomes]


def device_outcomes(outcomes: list[dict]) -> list[dict]:
    """Every device outcome of a list of action outcomes (for one query of their statuses)."""
    return [device for item in outcomes for device in item.get("devices", [])]
