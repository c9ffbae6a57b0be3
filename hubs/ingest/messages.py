"""Turn a raw MQTT message into a checked hub report, or a reason to skip it."""
import datetime
import uuid
from dataclasses import dataclass, field

from hubs.mqtt import topics
from veahome import parsers
from veahome.logsafe import untrusted

from . import registry

# Reports claiming to come from further ahead than this are clock errors, not the future.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=5)
MAX_PAYLOAD_BYTES = 64 * 1024


@dataclass
class Raw:
    """One message as it left the network thread."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    retain: bool
    received_at: datetime.datetime
    generation: int = 0
    received_mono: float = 0.0
    dup: bool = False  # the broker sent it before without getting our PUBACK


@dataclass
class Report:
    kind: str
    hub_id: uuid.UUID
    device_id: uuid.UUID | None
    body: dict
    ts: datetime.datetime
    has_ts: bool
    raw: Raw = field(repr=False, default=None)

    @property
    def redelivered(self) -> bool:
        return bool(self.raw and self.raw.dup)


class Rejected(Exception):
    """A report that is skipped; `detail` may quote what the hub sent, so it is kept escaped
    and bounded (veahome.logsafe) for the log line it ends up in."""

    def __init__(self, reason: str, detail: str = ""):
        detail = untrusted(detail) if detail else ""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _uuid(value: str | None, what: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Rejected(f"unknown_{what}", f"{what} id '{value[:64]}' is not a UUID") from None


def parse_ts(value, received_at: datetime.datetime) -> tuple[datetime.datetime, bool]:
    """The report's own timestamp (ISO 8601 or epoch seconds/milliseconds), else receipt time."""
    if value is None:
        return received_at, False
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, (int, float)):
            seconds = value / 1000 if value > 1e11 else value
            ts = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
        else:
            ts = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise Rejected("bad_timestamp", f"ts '{str(value)[:40]}'") from None
    if ts - received_at > MAX_CLOCK_SKEW:
        raise Rejected("bad_timestamp", f"ts {ts.isoformat()} is in the future")
    return ts, True


def parse(raw: Raw) -> Report:
    incoming = topics.parse(raw.topic)
    if incoming is None:
        raise Rejected("unknown_topic", raw.topic)
    if len(raw.payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("too_large", f"{len(raw.payload)} bytes")
    try:
        body = parsers.loads(raw.payload)
    except parsers.Rejected as exc:
        # JSON, but deeper than any report or holding text the database cannot store.
        raise Rejected("bad_payload", str(exc)) from None
    except ValueError:
        raise Rejected("malformed_json", raw.payload[:80]) from None
    if not isinstance(body, dict):
        raise Rejected("malformed_json", "payload is not a JSON object")
    hub_id = _uuid(incoming.hub_id, "hub")
    device_id = _uuid(incoming.device_id, "device")
    ts, has_ts = parse_ts(body.get("ts"), raw.received_at)
    report = Report(incoming.kind, hub_id, device_id, body, ts, has_ts, raw)
    registry.get(incoming.kind).check(report)
    return report


def check_state(report: Report) -> None:
    body = report.body
    if not isinstance(body.get("state"), dict):
        raise Rejected("bad_payload", "state is missing or not an object")
    for key in ("deviceId", "hubId"):
        named = body.get(key)
        expected = report.device_id if key == "deviceId" else report.hub_id
        if named is not None and str(named) != str(expected):
            raise Rejected("topic_mismatch", f"{key} {str(named)[:64]} differs from the topic's")
    command_id = body.get("commandId")
    if command_id is not None:
        try:
            body["commandId"] = uuid.UUID(str(command_id))
        except ValueError:
            raise Rejected("bad_payload", "commandId is not a UUID") from None


def check_learned(report: Report) -> None:
    body = report.body
    try:
        body["sessionId"] = uuid.UUID(str(body.get("sessionId")))
    except ValueError:
        raise Rejected("bad_payload", "sessionId is not a UUID") from None
    signal = body.get("signal")
    if not isinstance(signal, str) or not 1 <= len(signal) <= 4096:
        raise Rejected("bad_payload", "signal must be a string of 1 to 4096 characters")
    if not isinstance(body.get("action"), str):
        raise Rejected("bad_payload", "action is missing")


def check_status(report: Report) -> None:
    if report.body.get("status") not in ("online", "offline"):
        raise Rejected("bad_payload", "status must be online or offline")


def check_telemetry(report: Report) -> None:
    """Fields are checked against the device's type when the report is applied."""
