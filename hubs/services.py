"""Every write to hubs: pairing, provisioning, Wi-Fi, room slots."""
import base64
import datetime
import hashlib
import hmac
import logging
import re
import secrets
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from devices.models import Device
from homes.models import Home, Room
from hubs.errors import HubError
from realtime import publish
from veahome.error_codes import ApiError
from veahome.errors import ApplicationError
from veahome.logsafe import untrusted
from veahome.services import model_update, row_lock

from . import broker
from .models import Hub, HubRoom
from .mqtt import publisher, topics

logger = logging.getLogger(__name__)

QR_PREFIX = "VEAHUB-"
CLAIM_CODE_LENGTH = 12
CLAIM_RE = re.compile(rf"^[A-Z2-7]{{{CLAIM_CODE_LENGTH}}}$")
SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")

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
            HubError.ROOM_LIMIT,
            f"A hub serves at most {MAX_ROOMS_PER_HUB} rooms.",
            fields={"roomIds": [f"at most {MAX_ROOMS_PER_HUB}"]},
        )
    if len({r.pk for r in rooms}) != len(rooms):
        raise ApplicationError(HubError.DUPLICATE_ROOM, "A room is listed twice.", fields={"roomIds": ["duplicate"]})
    foreign = [str(r.pk) for r in rooms if r.home_id != hub.home_id]
    if foreign:
        raise ApplicationError(HubError.ROOM_NOT_IN_HOME, "Rooms must belong to the hub's home.", fields={"roomIds": foreign})
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
    """Rename the hub. `hub:update` carries the status and last sign of life the database holds
    (the listener writes them; the row lock makes it wait for this commit); an update that
    changes nothing publishes nothing."""
    row_lock(hub)
    if model_update(instance=hub, data=fields):
        publish(hub.home_id, "hub:update", hub_event(hub) | {"name": hub.name})
    return hub


def claim_code(factory_secret: str) -> str:
    """The claim code printed in a hub's QR code, derived from its factory secret (the
    firmware can derive it too): 12 base32 characters, 60 bits."""
    digest = hmac.new(factory_secret.encode(), b"veahome-hub-claim", hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CLAIM_CODE_LENGTH]


def parse_qr(qr_code: str) -> tuple[str, str | None]:
    """(serial, claim code or None) from a hub's QR code: `VEAHUB-{serial}.{claim}` as printed
    on the box, or the seed's `VEAHUB-{serial}` (accepted while the hub's claim window is open)."""
    code = qr_code.strip()
    body = code[len(QR_PREFIX):] if code.upper().startswith(QR_PREFIX) else ""
    serial, dot, claim = body.partition(".")
    if not SERIAL_RE.match(serial) or (dot and not CLAIM_RE.match(claim.upper())):
        raise ApplicationError(
            HubError.INVALID_QR_CODE,
            f"Not a VeaHome hub code (expected {QR_PREFIX}<serial>.<claim code>).",
            fields={"qrCode": ["expected VEAHUB-<serial>.<claim code>"]},
        )
    return serial, claim.upper() if dot else None


def _broker_unavailable(exc: Exception) -> ApplicationError:
    logger.error("broker administration failed: %s", exc)
    return ApplicationError(HubError.BROKER_UNAVAILABLE, "The hub link is unavailable; try again shortly.")


@transaction.atomic
def hub_pair(*, serial: str, claim: str | None, home: Home) -> tuple[Hub, bool]:
    """Claim an unpaired hub for `home`, with proof of possession: the claim code of its QR
    code, or the claim window the hub opened (its pair button). Returns (hub, newly_paired);
    pairing a hub to the home it already belongs to changes nothing. A hub of another home
    is never taken over."""
    hub = Hub.objects.select_for_update().filter(serial_number=serial).first()
    if hub is None:
        raise ApplicationError(
            HubError.NOT_FOUND, "No VeaHome hub has this code.", fields={"qrCode": ["unknown hub"]}
        )
    if hub.home_id == home.pk:
        return hub, False
    if hub.home_id is not None:
        raise ApplicationError(
            HubError.PAIRED_ELSEWHERE,
            "This hub belongs to another home; it must be unpaired there first.",
            fields={"qrCode": ["paired to another home"]},
        )
    now = timezone.now()
    in_window = hub.claim_window_until is not None and hub.claim_window_until > now
    proven = in_window or (claim is not None and bool(hub.claim_code_hash) and check_password(claim, hub.claim_code_hash))
    if not proven:
        logger.warning("hub pairing refused for serial %s: no proof of possession", untrusted(serial))
        raise ApplicationError(
            HubError.CLAIM_REFUSED,
            "Scan the QR code on the hub's box, or press the hub's pair button and try again.",
            fields={"qrCode": ["wrong claim code" if claim else "claim code missing and no claim window open"]},
        )
    hub.home = home
    hub.status = Hub.Status.PAIRING
    hub.paired_at = now
    hub.claim_window_until = None
    hub.mqtt_topic = topics.hub_root(hub.pk)
    hub.save(update_fields=["home", "status", "paired_at", "claim_window_until", "mqtt_topic", "updated_at"])
    publish(home.pk, "hub:paired", hub_event(hub) | {"name": hub.name, "serialNumber": hub.serial_number})
    return hub, True


def _hub_by_factory_secret(serial: str, factory_secret: str, *, purpose: str) -> Hub:
    """The (locked) hub a factory secret authenticates; the same answer, in the same time,
    for an unknown serial and a wrong secret."""
    hub = Hub.objects.select_for_update().filter(serial_number=serial).first()
    encoded = hub.factory_secret_hash if hub is not None and hub.factory_secret_hash else _decoy_hash()
    if not check_password(factory_secret, encoded) or hub is None or not hub.factory_secret_hash:
        logger.warning("hub %s refused for serial %s", purpose, untrusted(serial))
        raise ApplicationError(ApiError.INVALID_CREDENTIALS, "Unknown serial number or wrong factory secret.")
    return hub


@transaction.atomic
def hub_claim_window_open(*, serial: str, factory_secret: str) -> Hub:
    """The hub's pair button: for HUB_CLAIM_WINDOW_SECONDS its bare serial (the seed's
    `VEAHUB-{serial}` QR code) is enough to pair it. Only an unpaired hub opens one."""
    hub = _hub_by_factory_secret(serial, factory_secret, purpose="claim window")
    if hub.home_id is not None:
        raise ApplicationError(HubError.PAIRED_ELSEWHERE, "This hub is paired; unpair it in its home's app first.")
    hub.claim_window_until = timezone.now() + datetime.timedelta(seconds=settings.HUB_CLAIM_WINDOW_SECONDS)
    hub.save(update_fields=["claim_window_until", "updated_at"])
    logger.info("hub %s opened a claim window until %s", hub.pk, hub.claim_window_until.isoformat())
    return hub


@transaction.atomic
def hub_unpair(*, hub: Hub) -> Hub:
    """Release the hub from its home and revoke its broker account at once.

    The hub's devices stay in the home (with their rooms, history, scenes and groups) but
    lose their hub: a device's hub must belong to the device's home (composite foreign key),
    and deleting a household's devices because a hub is swapped would lose their history.
    They can be given a new hub of the same home. The hub's room slots are released.
    """
    hub = Hub.objects.select_for_update().get(pk=hub.pk)
    home_id = hub.home_id
    if home_id is None:
        return hub
    detached = [str(pk) for pk in Device.objects.filter(hub=hub).values_list("pk", flat=True)]
    Device.objects.filter(hub=hub).update(hub=None, updated_at=timezone.now())
    HubRoom.objects.filter(hub=hub).delete()
    revoke = bool(hub.broker_username)
    model_update(instance=hub, data={
        "home": None, "status": Hub.Status.UNPAIRED, "paired_at": None, "mqtt_topic": "", "wifi_ssid": "",
        "wifi_connected": False, "broker_username": "", "credentials_rotated_at": None,
    })
    publish(home_id, "hub:unpaired", {"hubId": str(hub.pk), "deviceIds": detached})
    if revoke:
        # Last, so a broker failure rolls the whole unpairing back instead of leaving a
        # released hub that can still connect.
        try:
            broker.hub_account_delete(hub_id=hub.pk)
        except broker.BrokerError as exc:
            raise _broker_unavailable(exc) from exc
    return hub


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Checked when the serial is unknown so both failures take the same time.
    return make_password(secrets.token_urlsafe(16))


@transaction.atomic
def hub_provision(*, serial: str, factory_secret: str) -> tuple[Hub, str]:
    """Issue the hub a fresh broker password (returned once, never stored here).

    Authenticated by the factory secret; only a paired hub gets an account, so an
    unpaired (or unpaired-since) hub cannot reach the broker at all.
    """
    hub = _hub_by_factory_secret(serial, factory_secret, purpose="provisioning")
    if hub.home_id is None:
        raise ApplicationError(
            HubError.NOT_PAIRED, "This hub is not paired to a home yet: pair it in the app, then retry."
        )
    password = secrets.token_urlsafe(32)
    hub.broker_username = broker.hub_username(hub.pk)
    hub.credentials_rotated_at = timezone.now()
    hub.save(update_fields=["broker_username", "credentials_rotated_at", "updated_at"])
    try:
        broker.hub_account_set(hub_id=hub.pk, password=password)
    except broker.BrokerError as exc:
        raise _broker_unavailable(exc) from exc
    logger.info("hub %s provisioned broker credentials", hub.pk)
    return hub, password


def hub_wifi_configure(*, hub: Hub, ssid: str, password: str) -> Hub:
    """Send Wi-Fi settings to the hub; it shows `connecting` until it reports online.
    The password only passes through: never stored, never logged. The message leaves after
    the new status commits; if the broker does not take it, the hub's previous Wi-Fi status
    comes back and the caller gets a 503."""
    with transaction.atomic():
        hub = Hub.objects.select_for_update().get(pk=hub.pk)
        before = {"wifi_ssid": hub.wifi_ssid, "wifi_connected": hub.wifi_connected, "status": hub.status}
        hub.wifi_ssid = ssid
        hub.wifi_connected = False
        hub.status = Hub.Status.CONNECTING
        hub.save(update_fields=["wifi_ssid", "wifi_connected", "status", "updated_at"])
        publish(hub.home_id, "hub:status", hub_event(hub))
        send = publisher.send_wifi_config(hub_id=hub.pk, ssid=ssid, password=password,
                                          on_failed=lambda exc: _wifi_not_sent(hub, before, exc))
    if send.failed:
        raise ApplicationError(
            HubError.UNREACHABLE, "The Wi-Fi settings could not be sent to the hub; try again."
        )
    return hub


@transaction.atomic
def _wifi_not_sent(hub: Hub, before: dict, exc: Exception) -> None:
    logger.error("Wi-Fi settings for hub %s not published: %s", hub.pk, type(exc).__name__)
    # Put back what the request changed, unless the hub reported something since.
    if Hub.objects.filter(pk=hub.pk, status=Hub.Status.CONNECTING, wifi_ssid=hub.wifi_ssid).update(
            **before, updated_at=timezone.now()):
        hub.refresh_from_db()
        publish(hub.home_id, "hub:status", hub_event(hub))


class ImportRowsError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


MIN_FACTORY_SECRET = 16


@transaction.atomic
def hubs_import(*, rows: list[list[str]]) -> dict:
    """Register manufactured hubs from (serial, factory_secret[, firmware]) rows; all or nothing.
    Row numbers in errors count from the first data row. Secrets are only ever hashed."""
    problems, parsed, seen = [], [], set()
    for number, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if len(cells) not in (2, 3):
            problems.append(f"row {number}: expected serial,factory_secret[,firmware]")
            continue
        serial, secret, firmware = cells[0], cells[1], cells[2] if len(cells) == 3 else ""
        if not SERIAL_RE.match(serial):
            problems.append(f"row {number}: invalid serial {serial!r}")
        elif serial in seen:
            problems.append(f"row {number}: serial {serial} listed twice")
        elif len(secret) < MIN_FACTORY_SECRET:
            problems.append(f"row {number}: factory secret shorter than {MIN_FACTORY_SECRET} characters")
        else:
            seen.add(serial)
            parsed.append((serial, secret, firmware[:64]))
    if problems:
        raise ImportRowsError(problems)
    existing = {h.serial_number: h for h in Hub.objects.select_for_update().filter(serial_number__in=seen)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for serial, secret, firmware in parsed:
        hub = existing.get(serial)
        if hub is None:
            Hub.objects.create(serial_number=serial, factory_secret_hash=make_password(secret),
                               claim_code_hash=make_password(claim_code(secret)), firmware=firmware)
            counts["created"] += 1
            continue
        changed = []
        if not hub.factory_secret_hash or not check_password(secret, hub.factory_secret_hash):
            hub.factory_secret_hash = make_password(secret)
            changed.append("factory_secret_hash")
        if not hub.claim_code_hash or not check_password(claim_code(secret), hub.claim_code_hash):
            hub.claim_code_hash = make_password(claim_code(secret))
            changed.append("claim_code_hash")
        if firmware and firmware != hub.firmware:
            hub.firmware = firmware
            changed.append("firmware")
        if changed:
            hub.save(update_fields=[*changed, "updated_at"])
        counts["updated" if changed else "unchanged"] += 1
    return counts
