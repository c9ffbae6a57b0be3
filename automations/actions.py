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


# Action types whose devices can be sent together with other jobs' (run_actions_many).
BATCHABLE = frozenset({"device", "group"})


def run_actions_many(*, jobs: list[tuple[object, list[dict]]], source: str = Source.SCHEDULE, actor=None,
                     origin: str = "") -> list[list[dict]]:
    """`run_actions` for many (home id, actions) jobs at once (a schedule tick's batch); one list
    of outcomes per job, in order. Call inside a transaction.

    The devices of every job made only of device and group actions are read once and sent by
    one `control_devices_many`; a job with a scene action runs on its own, action by action,
    so its commands keep the order of its actions.
    """
    results: list[list[dict] | None] = [None] * len(jobs)
    together = []
    for index, (home_id, job_actions) in enumerate(jobs):
        if all(action["type"] in BATCHABLE for action in job_actions):
            together.append(index)
        else:
            results[index] = run_actions(home_id=home_id, actions=job_actions, source=source, actor=actor,
                                         origin=origin)
    group_ids = {action["groupId"] for index in together for action in jobs[index][1] if action["type"] == "group"}
    groups = {str(pk): str(home_id) for pk, home_id in
              DeviceGroup.objects.filter(pk__in=group_ids).values_list("pk", "home_id")} if group_ids else {}
    members: dict[str, list[str]] = {}
    for group_id, device_id in (DeviceGroupMember.objects.filter(group_id__in=list(groups))
                                .order_by("group_id", "device_id").values_list("group_id", "device_id")
                                if groups else []):
        members.setdefault(str(group_id), []).append(str(device_id))
    targets: list[tuple[object, fanout.Target]] = []
    spans = []  # per action of each batched job: (job, its outcome without devices, [start, end) of targets)
    for index in together:
        home_id, job_actions = jobs[index]
        results[index] = []
        for action in job_actions:
            start = len(targets)
            if action["type"] == "device":
                item = {"type": "device", "deviceId": action["deviceId"], "skipped": None}
                targets.append((home_id, fanout.Target(action["deviceId"], action["state"])))
            elif groups.get(str(action["groupId"])) != str(home_id):
                item = {"type": "group", "groupId": action["groupId"], "skipped": "group_deleted"}
            else:
                item = {"type": "group", "groupId": action["groupId"], "skipped": None}
                targets.extend((home_id, fanout.Target(device_id, action["state"]))
                               for device_id in members.get(str(action["groupId"]), []))
            results[index].append(item)
            spans.append((item, start, len(targets)))
    outcomes = fanout.control_devices_many(targets=targets, actor=actor, origin=origin) if targets else []
    for item, start, end in spans:
        item["devices"] = outcomes[start:end]
    return results


def with_status(outcomes: list[dict], statuses: dict[str, str]) -> list[dict]:
    """Action outcomes with each device's command status now (devices.fanout.with_status)."""
    return [{**item, "devices": fanout.with_status(item.get("devices", []), statuses)} for item in outcomes]


def device_outcomes(outcomes: list[dict]) -> list[dict]:
    """Every device outcome of a list of action outcomes (for one query of their statuses)."""
    return [device for item in outcomes for device in item.get("devices", [])]
