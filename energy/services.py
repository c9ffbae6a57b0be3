"""Every write of the energy app: points in, state changes, tariffs, budgets, ingestion tokens."""
import datetime
import hashlib
import hmac
import logging
import secrets
from decimal import Decimal

from django.db import transaction

from devices.models import Device
from energy.errors import EnergyError
from homes.models import Home
from realtime import publish
from veahome.errors import ApplicationError
from veahome.services import model_update, row_lock

from . import live, periods
from . import points as points_store
from .models import Budget, IngestionToken, Tariff

logger = logging.getLogger(__name__)


def drop_expired_readings(*, now: datetime.datetime | None = None) -> datetime.datetime:
    """Drop raw points older than the retention, never ones whose rollups are still pending."""
    from django.conf import settings
    from django.db import connection

    from .timeseries import get_backend

    now = now or datetime.datetime.now(datetime.timezone.utc)
    cutoff = now - datetime.timedelta(days=settings.ENERGY_RAW_RETENTION_DAYS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(hour) FROM energy_rollup_dirty")
        oldest_pending = cursor.fetchone()[0]
    if oldest_pending is not None and oldest_pending < cutoff:
        cutoff = oldest_pending
    get_backend().delete_before(cutoff)
    logger.info("dropped raw readings before %s", cutoff.isoformat())
    return cutoff


# -- tariffs ------------------------------------------------------------------------------

def _tariff_in_effect(tariff: Tariff) -> bool:
    return tariff.valid_from <= periods.local_today(tariff.home.tz)


@transaction.atomic
def tariff_create(*, home: Home, **fields) -> Tariff:
    if Tariff.objects.in_home(home).filter(valid_from=fields["valid_from"]).exists():
        raise ApplicationError(EnergyError.TARIFF_EXISTS, "A tariff already starts on that date.", fields={"validFrom": ["Taken."]})
    tariff = Tariff.objects.create(home=home, **fields)
    publish(home.pk, "tariff:created", {"tariffId": str(tariff.pk), "validFrom": tariff.valid_from.isoformat()})
    return tariff


def _refuse_past(tariff: Tariff, verb: str) -> None:
    # Past costs are computed from the tariffs in force then; changing one would rewrite them.
    if _tariff_in_effect(tariff):
        raise ApplicationError(
            EnergyError.TARIFF_IN_EFFECT,
            f"This tariff already applies; {verb} it would change past costs. Add a new tariff valid from a later date.",
        )


@transaction.atomic
def tariff_update(*, tariff: Tariff, **fields) -> Tariff:
    _refuse_past(tariff, "changing")
    new_start = fields.get("valid_from")
    if new_start is not None and new_start <= periods.local_today(tariff.home.tz):
        raise ApplicationError(EnergyError.TARIFF_IN_PAST, "A tariff can only be moved to a future date.", fields={"validFrom": ["Must be after today."]})
    if model_update(instance=tariff, data=fields):
        publish(tariff.home_id, "tariff:update", {"tariffId": str(tariff.pk)})
    return tariff


@transaction.atomic
def tariff_delete(*, tariff: Tariff) -> None:
    _refuse_past(tariff, "deleting")
    home_id, data = tariff.home_id, {"tariffId": str(tariff.pk)}
    tariff.delete()
    publish(home_id, "tariff:deleted", data)


# -- budgets ------------------------------------------------------------------------------

@transaction.atomic
def budget_set(*, home: Home, kind: str, amount) -> Budget:
    """Create or change the home's budget; `budget:update` follows a change, and setting the
    same budget again changes nothing (this month's crossing stays announced)."""
    amount = Decimal(str(amount))
    budget, created = Budget.objects.get_or_create(home=home, defaults={"kind": kind, "amount": amount})
    if not created:
        # The alerts feature records announced crossings in this row concurrently.
        row_lock(budget)
        if (budget.kind, budget.amount) == (kind, amount):
            return budget
        # A different budget is a new one: its crossing this month has not been announced.
        model_update(instance=budget, data={"kind": kind, "amount": amount, "notified_month": None})
    publish(home.pk, "budget:update", {"kind": kind, "amount": str(budget.amount)})
    return budget


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    home_id = budget.home_id
    budget.delete()
    publish(home_id, "budget:update", {"kind": None, "amount": None})


def budget_mark_notified(*, budget: Budget, month: datetime.date) -> None:
    """For the alerts feature: remember that this month's crossing was announced."""
    Budget.objects.filter(pk=budget.pk).update(notified_month=month)


# -- HTTP ingestion ------------------------------------------------------------------------

TOKEN_PREFIX_BYTES = 6


def _hash_secret(secret: str) -> str:
    # The secret is 32 random bytes, not a password: a fast hash is enough and keeps
    # per-request checks cheap; only the hash is stored.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def ingestion_token_issue(*, device: Device) -> str:
    """A new token for a device (replacing any old one); the clear text is returned once."""
    prefix, secret = secrets.token_hex(TOKEN_PREFIX_BYTES), secrets.token_urlsafe(32)
    IngestionToken.objects.update_or_create(
        device=device, defaults={"prefix": prefix, "secret_hash": _hash_secret(secret), "last_used_at": None}
    )
    publish(device.home_id, "device:ingestion-token", {"deviceId": str(device.pk), "prefix": prefix})
    return f"vht_{prefix}.{secret}"


@transaction.atomic
def ingestion_token_revoke(*, device: Device) -> None:
    IngestionToken.objects.filter(device=device).delete()
    publish(device.home_id, "device:ingestion-token", {"deviceId": str(device.pk), "prefix": None})


def device_for_token(token: str) -> Device | None:
    """The device a presented token belongs to, or None (constant-time comparison)."""
    body = token[4:] if token.startswith("vht_") else ""
    prefix, _, secret = body.partition(".")
    if not prefix or not secret:
        return None
    row = IngestionToken.objects.select_related("device__home").filter(prefix=prefix).first()
    if row is None or not hmac.compare_digest(row.secret_hash, _hash_secret(secret)):
        return None
    IngestionToken.objects.filter(pk=row.pk).update(last_used_at=datetime.datetime.now(datetime.timezone.utc))
    return row.device


def device_heard_at(*, device: Device) -> datetime.datetime:
    """When a token device was last heard from (its token's last use: a heartbeat or readings)."""
    return IngestionToken.objects.filter(device=device).values_list("last_used_at", flat=True).first()


def ingest_device_readings(*, device: Device, readings: list[dict]) -> int:
    """Validated readings ({"ts", "fields"}) of one device, as one batch."""
    points = [points_store.telemetry_point(home_id=device.home_id, device_id=device.pk, room_id=device.room_id,
                                           ts=r["ts"], fields=r["fields"]) for r in readings]
    return points_store.ingest_points(points=points)


# -- home deletion ----------------------------------------------------------------------------

def home_history_purge(*, home_id: str) -> None:
    """Remove every reading and rollup of a deleted home."""
    from django.db import connection

    from .timeseries import get_backend

    backend = get_backend()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM energy_rollup_dirty WHERE home_id = %s", [home_id])
        cursor.execute("DELETE FROM energy_rollup WHERE home_id = %s", [home_id])
        if backend.name == "postgres":
            cursor.execute("DELETE FROM energy_reading WHERE home_id = %s", [home_id])
    if backend.name != "postgres":
        backend.delete_home(home_id, datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
    live.forget(home_id)
    logger.info("purged the history of home %s", home_id)
