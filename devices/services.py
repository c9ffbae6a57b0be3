"""Every write to devices and device groups; device control and IR/RF learning."""
import datetime
import logging
import re

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from devices.errors import DeviceError
from energy import points as history_points
from homes.models import Home
from hubs.errors import HubError
from hubs.models import Hub
from hubs.mqtt import publisher, topics
from realtime import publish
from realtime.events import publish_many
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError
from veahome.services import bulk_insert, home_limit_check, model_update, row_lock

from . import capabilities, state_changes
from .models import Command, Device, DeviceGroup, DeviceGroupMember, LearnSession

logger = logging.getLogger(__name__)


def device_event(device: Device) -> dict:
    return {
        "deviceId": str(device.pk),
        "roomId": str(device.room_id),
        "hubId": str(device.hub_id) if device.hub_id else None,
        "name": device.name,
        "type": device.type,
        "category": device.category,
        "state": {
            **(device.state or {}),
            "isActive": device.is_active,
            "value": float(device.value) if device.value is not None else None,
        },
    }


@transaction.atomic
def device_create(*, home: Home, **fields) -> Device:
    home_limit_check(home=home, model=Device, what="devices")
    device = Device.objects.create(home=home, **fields)
    publish(home.pk, "device:created", device_event(device))
    return device


@transaction.atomic
def device_update(*, device: Device, **fields) -> Device:
    """Change the device's settings. `device:update` carries the state the database holds:
    the row is locked before it is read, so a state report the listener is writing either
    lands first (and is in the event) or waits for this commit (and sends its own event).
    An update that changes nothing writes and publishes nothing."""
    moving_to = fields["hub"].pk if fields.get("hub") is not None else None
    if "hub" in fields and moving_to != device.hub_id:
        # Moving to a hub share-locks that hub's row (the same-home key), so take the hubs
        # first, in id order, as the listener does: holding the device while it holds the
        # hub and waits for the device would deadlock.
        hub_ids = sorted(pk for pk in {device.hub_id, moving_to} if pk is not None)
        list(Hub.objects.select_for_update().filter(pk__in=hub_ids).order_by("pk").values_list("pk", flat=True))
    row_lock(device)
    previous = state_changes.snapshot(device)
    changed = model_update(instance=device, data=fields)
    if not changed:
        return device
    if "is_active" in changed or "value" in changed:
        state = device_state_apply(device, {"isActive": device.is_active, "value": device.value})
        device.save(update_fields=["state", "updated_at"])
        now = timezone.now()
        history_points.ingest_points(points=[history_points.state_point(
            home_id=device.home_id, device_id=device.pk, room_id=device.room_id, ts=now, state=state)])
        state_changes.notify([state_changes.StateChange(home_id=device.home_id, device_id=device.pk,
                                                        state=state_changes.snapshot(device), previous=previous, ts=now)])
    publish(device.home_id, "device:update", device_event(device))
    return device


def device_state_apply(device, state: dict) -> dict:
    """The one way a state lands on a device row (a model instance or the listener's row):
    a report, an assumed IR/RF command or an edit. Merges `state` into the row's columns
    and its `state` document in memory (the caller writes them) and returns the device's
    resulting `{isActive, value}` for its history."""
    if "isActive" in state:
        device.is_active = state["isActive"]
    if "value" in state:
        device.value = state["value"]
    device.state = {**(device.state or {}), **{k: v for k, v in state.items() if k != "commandId"}}
    if device.value is not None:
        device.state["value"] = float(device.value)
    return {"isActive": device.is_active, "value": float(device.value) if device.value is not None else None}


@transaction.atomic
def device_delete(*, device: Device) -> None:
    home_id, data = device.home_id, {"deviceId": str(device.pk)}
    device.delete()
    publish(home_id, "device:deleted", data)


def _set_members(group: DeviceGroup, devices: list[Device]) -> None:
    DeviceGroupMember.objects.filter(group=group).delete()
    DeviceGroupMember.objects.bulk_create([DeviceGroupMember(group=group, device=d) for d in devices])


def _group_event(group: DeviceGroup, devices: list[Device] | None) -> dict:
    data = {"groupId": str(group.pk), "name": group.name}
    if devices is not None:
        data["deviceIds"] = [str(d.pk) for d in devices]
    return data


@transaction.atomic
def group_create(*, home: Home, name: str, devices: list[Device], icon: str = "") -> DeviceGroup:
    home_limit_check(home=home, model=DeviceGroup, what="device groups")
    group = DeviceGroup.objects.create(home=home, name=name, icon=icon)
    _set_members(group, devices)
    publish(home.pk, "group:created", _group_event(group, devices))
    return group


@transaction.atomic
def group_update(*, group: DeviceGroup, devices: list[Device] | None = None, **fields) -> DeviceGroup:
    """Change the group's name or icon and, when `devices` is given, its members. `group:update`
    carries `deviceIds` when members were given; an update that changes nothing publishes nothing."""
    changed = model_update(instance=group, data=fields)
    if devices is not None:
        current = set(DeviceGroupMember.objects.filter(group=group).values_list("device_id", flat=True))
        if current != {d.pk for d in devices}:
            _set_members(group, devices)
            if not changed:
                group.save(update_fields=["updated_at"])
            changed.append("devices")
    if changed:
        publish(group.home_id, "group:update", _group_event(group, devices))
    return group


@transaction.atomic
def group_delete(*, group: DeviceGroup) -> None:
    home_id, data = group.home_id, {"groupId": str(group.pk)}
    group.delete()
    publish(home_id, "group:deleted", data)


# --- Control: command lifecycle pending -> sent -> confirmed | expired, or -> assumed (IR/RF) ---


def command_event(command: Command) -> dict:
    return {
        "commandId": str(command.pk),
        "deviceId": str(command.device_id),
        "status": command.status,
        "desiredState": command.desired_state,
        "sentAt": command.sent_at.isoformat() if command.sent_at else None,
        "finishedAt": command.finished_at.isoformat() if command.finished_at else None,
    }


@transaction.atomic
def _command_create(*, device: Device, actor, plan: capabilities.Plan, origin: str = "") -> Command:
    command = Command.objects.create(
        home_id=device.home_id, device=device, hub_id=device.hub_id, actor=actor, origin=origin,
        desired_state=plan.desired, payload=plan.payload,
    )
    publish(device.home_id, "command:status", command_event(command))
    return command


def _command_move(command: Command, *, to: str, allowed=Command.OPEN, **fields) -> bool:
    """Move an open command on; False when something else (a state report, expiry) already did."""
    now = timezone.now()
    if to != Command.Status.SENT:
        fields.setdefault("finished_at", now)
    updated = Command.objects.filter(pk=command.pk, status__in=allowed).update(status=to, updated_at=now, **fields)
    if updated:
        command.refresh_from_db()
        publish(command.home_id, "command:status", command_event(command))
    return bool(updated)


def device_control(*, device: Device, request: dict, actor=None, origin: str = "") -> Command:
    """Validate a control request, record it as a command and send it to the device's hub.

    The message leaves once the command row commits: at once for a person's tap (a 503 when
    the broker does not take it), at the end of the caller's transaction for a scene or a
    schedule sending many. Either way the command moves to sent/assumed or failed when the
    broker answers.
    """
    plan = capabilities.plan_control(device, request)
    with transaction.atomic():
        command = _command_create(device=device, actor=actor, plan=plan, origin=origin)
        send = publisher.send_control(
            hub_id=device.hub_id, device_id=device.pk, command_id=command.pk, payload=plan.payload,
            on_sent=lambda: _command_sent(command, device_id=device.pk, reports_back=plan.reports_back),
            on_failed=lambda exc: _command_failed(command, exc),
        )
    if send.failed:
        raise ApplicationError(HubError.UNREACHABLE, "The command could not be sent to the hub; try again.")
    if send.status != "queued":
        command.refresh_from_db()
    return command


def devices_control_many(*, requests: list[tuple[Device, dict]], actor=None, origin: str = "") -> list:
    """`device_control` for many devices in the caller's transaction (a scene, a group, a
    schedule's or an automation's actions), handed to the hubs together once it commits.

    One result per request, in order: the Command, or the ApplicationError that refused the
    request (not raised: the others go ahead). The commands are inserted together and sent
    together (publisher.publish_batch); the ones their hubs took move to sent in one update,
    IR/RF ones to assumed, the others to failed.
    """
    results, planned = [], []
    for device, request in requests:
        try:
            plan = capabilities.plan_control(device, request)
        except ApplicationError as exc:
            results.append(exc)
            continue
        command = Command(home_id=device.home_id, device=device, hub_id=device.hub_id, actor=actor, origin=origin,
                          desired_state=plan.desired, payload=plan.payload)
        results.append(command)
        planned.append((command, device, plan))
    if not planned:
        return results
    with transaction.atomic(savepoint=False):
        bulk_insert([command for command, _, _ in planned])
        publish_many([(c.home_id, "command:status", command_event(c)) for c, _, _ in planned])
        transaction.on_commit(lambda: _deliver_many(planned))
    return results


def _deliver_many(planned: list[tuple]) -> None:
    results = publisher.publish_batch([
        (f"command:{command.pk}", topics.device_control(device.hub_id, device.pk),
         {"commandId": str(command.pk), **plan.payload}) for command, device, plan in planned])
    now = timezone.now()
    sent = [command.pk for (command, _, plan), result in zip(planned, results) if result == "sent" and plan.reports_back]
    if sent:
        with transaction.atomic(), connection.cursor() as cursor:
            # Only those still pending: a hub that answered at once has confirmed its command already.
            cursor.execute(f"UPDATE {Command._meta.db_table} SET status = %s, sent_at = %s, updated_at = %s"
                           " WHERE id = ANY(%s::uuid[]) AND status = %s RETURNING id",
                           [Command.Status.SENT, now, now, "{" + ",".join(map(str, sent)) + "}",
                            Command.Status.PENDING])
            moved = {row[0] for row in cursor.fetchall()}
            events = []
            for command, _, _ in planned:
                if command.pk in moved:
                    command.status, command.sent_at = Command.Status.SENT, now
                    events.append((command.home_id, "command:status", command_event(command)))
            publish_many(events)
    for (command, device, plan), result in zip(planned, results):
        if result == "sent" and not plan.reports_back:
            with transaction.atomic():
                _command_assume(command=command, device_id=device.pk)
        elif isinstance(result, Exception):
            _command_failed(command, result)


@transaction.atomic
def _command_sent(command: Command, *, device_id, reports_back: bool) -> None:
    if reports_back:
        _command_move(command, to=Command.Status.SENT, allowed=[Command.Status.PENDING], sent_at=timezone.now())
    else:
        _command_assume(command=command, device_id=device_id)


@transaction.atomic
def _command_failed(command: Command, exc: Exception) -> None:
    logger.warning("control %s for device %s not sent: %s", command.pk, command.device_id, exc)
    _command_move(command, to=Command.Status.FAILED)


def _command_assume(*, command: Command, device_id) -> None:
    """IR/RF devices never report: once the hub has the command, the desired state is the state."""
    now = timezone.now()
    if not _command_move(command, to=Command.Status.ASSUMED, allowed=[Command.Status.PENDING], sent_at=now):
        return
    device = Device.objects.select_for_update().get(pk=device_id)
    previous = state_changes.snapshot(device)
    state = device_state_apply(device, command.desired_state)
    device.save(update_fields=["is_active", "value", "state", "updated_at"])
    history_points.ingest_points(points=[history_points.state_point(
        home_id=device.home_id, device_id=device.pk, room_id=device.room_id, ts=now, state=state)])
    state_changes.notify([state_changes.StateChange(home_id=device.home_id, device_id=device.pk,
                                                    state=state_changes.snapshot(device), previous=previous, ts=now,
                                                    origin=command.origin)])
    publish(device.home_id, "device:update", device_event(device) | {"assumed": True})


@transaction.atomic
def commands_expire(*, now: datetime.datetime | None = None) -> int:
    """Mark commands nobody confirmed within COMMAND_TIMEOUT_SECONDS as expired."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.COMMAND_TIMEOUT_SECONDS)
    stale = list(Command.objects.select_for_update(skip_locked=True)
                 .filter(status__in=Command.OPEN, created_at__lt=cutoff)[:1000])
    for command in stale:
        command.status, command.finished_at, command.updated_at = Command.Status.EXPIRED, now, now
        publish(command.home_id, "command:status", command_event(command))
    Command.objects.bulk_update(stale, ["status", "finished_at", "updated_at"])
    return len(stale)


# --- IR/RF learning ---

ACTION_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")


def learn_event(session: LearnSession) -> dict:
    return {
        "sessionId": str(session.pk),
        "deviceId": str(session.device_id),
        "hubId": str(session.hub_id),
        "action": session.action,
        "status": session.status,
        "expiresAt": session.expires_at.isoformat(),
    }


@transaction.atomic
def _learn_open(*, device: Device, hub: Hub, action: str, actor) -> LearnSession:
    now = timezone.now()
    # One session per device at a time: a new one replaces whatever the hub was listening for.
    for old in LearnSession.objects.select_for_update().filter(device=device, status=LearnSession.Status.OPEN):
        old.status, old.finished_at = LearnSession.Status.EXPIRED, now
        old.save(update_fields=["status", "finished_at", "updated_at"])
        publish(old.home_id, "learn:status", learn_event(old))
    session = LearnSession.objects.create(
        home_id=device.home_id, device=device, hub=hub, actor=actor, action=action,
        expires_at=now + datetime.timedelta(seconds=settings.LEARN_SESSION_TIMEOUT_SECONDS),
    )
    publish(device.home_id, "learn:status", learn_event(session))
    return session


def learn_start(*, device: Device, hub: Hub, action, actor=None) -> LearnSession:
    """Open a learning session and ask the hub to listen for the remote's `action` button."""
    if not isinstance(action, str) or not ACTION_NAME.match(action):
        raise ApplicationError(ApiError.INVALID, "action is an upper-case name such as ON or TEMP_UP.",
                               fields={"action": ["upper-case letters, digits and _; 1 to 64 characters"]})
    if device.category not in capabilities.SIGNAL_CATEGORIES:
        raise ApplicationError(DeviceError.NOT_LEARNABLE, "Only IR and RF devices learn signals.",
                               fields={"deviceId": [f"category {device.category} does not learn"]})
    with transaction.atomic():
        session = _learn_open(device=device, hub=hub, action=action, actor=actor)
        send = publisher.send_learn(hub_id=hub.pk, device_id=device.pk, session_id=session.pk, action=action,
                                    on_failed=lambda exc: _learn_failed(session, exc))
    if send.failed:
        session.refresh_from_db()
        raise ApplicationError(HubError.UNREACHABLE, "The hub could not be reached; try again.")
    return session


@transaction.atomic
def _learn_failed(session: LearnSession, exc: Exception) -> None:
    logger.warning("learn %s for device %s not sent: %s", session.pk, session.device_id, exc)
    if LearnSession.objects.filter(pk=session.pk, status=LearnSession.Status.OPEN).update(
            status=LearnSession.Status.FAILED, finished_at=timezone.now(), updated_at=timezone.now()):
        session.refresh_from_db()
        publish(session.home_id, "learn:status", learn_event(session))


@transaction.atomic
def learn_sessions_expire(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    stale = list(LearnSession.objects.select_for_update(skip_locked=True)
                 .filter(status=LearnSession.Status.OPEN, expires_at__lte=now)[:1000])
    for session in stale:
        session.status, session.finished_at, session.updated_at = LearnSession.Status.EXPIRED, now, now
        publish(session.home_id, "learn:status", learn_event(session))
    LearnSession.objects.bulk_update(stale, ["status", "finished_at", "updated_at"])
    return len(stale)
