"""The kinds of hub -> cloud report, registered once each: topic shape, payload check and
the handler that applies it.

    @report_kind("telemetry", scope=DEVICE, check=messages.check_telemetry)
    def ingest_telemetry(batch, report) -> bool: ...

The listener's subscriptions (`hubs.mqtt.topics.subscriptions`), the topic parser and the
dispatch in `services.ingest` all read this registry, so a new hub message is one entry.
Handlers return True when the report changed something, False for a duplicate.
"""
from collections.abc import Callable
from dataclasses import dataclass

DEVICE = "device"  # {root}/devices/{deviceId}/{kind}
HUB = "hub"  # {root}/{kind}


@dataclass(frozen=True)
class ReportKind:
    name: str
    scope: str
    check: Callable
    apply: Callable


_KINDS: dict[str, ReportKind] = {}
_loaded = False


def report_kind(name: str, *, scope: str, check: Callable):
    if scope not in (DEVICE, HUB):
        raise ValueError(f"scope must be {DEVICE!r} or {HUB!r}")

    def register(apply: Callable) -> Callable:
        if name in _KINDS:
            raise ValueError(f"report kind {name!r} is registered twice")
        _KINDS[name] = ReportKind(name=name, scope=scope, check=check, apply=apply)
        return apply

    return register


def kinds() -> dict[str, ReportKind]:
    """Every registered kind: the hub's register in hubs.ingest.services, the devices' in
    devices.ingest (which services imports)."""
    global _loaded
    if not _loaded:
        from . import services  # noqa: F401

        _loaded = True
    return _KINDS


def get(name: str) -> ReportKind:
    return kinds()[name]
