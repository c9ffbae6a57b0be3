"""Build and parse the topics of the hub contract (docs/mqtt.md).

cloud -> hub   hubs/{hubId}/devices/{deviceId}/control
cloud -> hub   hubs/{hubId}/wifi/config
cloud -> hub   hubs/{hubId}/devices/{deviceId}/learn
hub -> cloud   hubs/{hubId}/devices/{deviceId}/state
hub -> cloud   hubs/{hubId}/devices/{deviceId}/telemetry
hub -> cloud   hubs/{hubId}/devices/{deviceId}/learned
hub -> cloud   hubs/{hubId}/status

The hub -> cloud kinds come from the report registry (hubs.ingest.registry).
"""
from dataclasses import dataclass

from django.conf import settings

from hubs.ingest import registry


def _prefix() -> str:
    prefix = settings.MQTT_TOPIC_PREFIX.strip("/")
    return f"{prefix}/" if prefix else ""


def hub_root(hub_id) -> str:
    return f"{_prefix()}hubs/{hub_id}"


def device_control(hub_id, device_id) -> str:
    return f"{hub_root(hub_id)}/devices/{device_id}/control"


def device_learn(hub_id, device_id) -> str:
    return f"{hub_root(hub_id)}/devices/{device_id}/learn"


def wifi_config(hub_id) -> str:
    return f"{hub_root(hub_id)}/wifi/config"


def hub_status(hub_id) -> str:
    return f"{hub_root(hub_id)}/status"


# Cloud -> hub topics, relative to a hub's root: the only topics a hub may subscribe to,
# and the only ones under its root it may not publish to.
HUB_COMMAND_SUFFIXES = ("devices/+/control", "devices/+/learn", "wifi/config")

# Mosquitto dynamic-security's command topic (broker administration, not the hub contract).
DYNSEC_CONTROL = "$CONTROL/dynamic-security/v1"
DYNSEC_RESPONSE = f"{DYNSEC_CONTROL}/response"


def hub_all(hub_id) -> str:
    """Every topic under one hub's root (`+` for every hub)."""
    return f"{hub_root(hub_id)}/#"


def hub_commands(hub_id) -> list[str]:
    """Filters for the cloud -> hub topics of one hub (`+` for every hub)."""
    return [f"{hub_root(hub_id)}/{suffix}" for suffix in HUB_COMMAND_SUFFIXES]


def subscriptions() -> list[str]:
    """What the backend's listener subscribes to (hub -> cloud only)."""
    root = f"{_prefix()}hubs/+"
    return [f"{root}/devices/+/{name}" if kind.scope == registry.DEVICE else f"{root}/{name}"
            for name, kind in registry.kinds().items()]


@dataclass(frozen=True)
class Incoming:
    kind: str  # a registered report kind: state | telemetry | learned | status
    hub_id: str
    device_id: str | None = None


def parse(topic: str) -> Incoming | None:
    """The meaning of a hub -> cloud topic, or None for anything outside the contract."""
    prefix = _prefix()
    if prefix:
        if not topic.startswith(prefix):
            return None
        topic = topic[len(prefix):]
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "hubs" or not parts[1]:
        return None
    kinds = registry.kinds()
    if len(parts) == 3 and parts[2] in kinds and kinds[parts[2]].scope == registry.HUB:
        return Incoming(parts[2], parts[1])
    if len(parts) == 5 and parts[2] == "devices" and parts[3] and parts[4] in kinds \
            and kinds[parts[4]].scope == registry.DEVICE:
        return Incoming(parts[4], parts[1], parts[3])
    return None


def listener_subscriptions(shared_group: str = "") -> list[str]:
    """The listener's filters; with a group, as MQTT shared subscriptions so that several
    listeners split the stream (each message goes to one of them)."""
    filters = subscriptions()
    if not shared_group:
        return filters
    return [shared(topic, shared_group) for topic in filters]


def shared(topic_filter: str, group: str = "+") -> str:
    """A shared-subscription filter (`+` as group: any group, for ACLs)."""
    return f"$share/{group}/{topic_filter}"


def device_report(hub_id, device_id, kind: str) -> str:
    """A hub -> cloud device topic (state, telemetry, learned): for hubs and the simulator."""
    return f"{hub_root(hub_id)}/devices/{device_id}/{kind}"
