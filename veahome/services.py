"""Write helpers every app's services share: updates that write only what they change, row locks, per-home limits."""
import datetime
import json
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.http import Http404

from homes.errors import HomeError
from veahome.errors import ApplicationError

# What a home may hold at most of each kind, by the setting that says how many (docs/api.md).
HOME_LIMITS = {
    "devices": "HOME_MAX_DEVICES",
    "scenes": "HOME_MAX_SCENES",
    "schedules": "HOME_MAX_SCHEDULES",
    "automations": "HOME_MAX_AUTOMATIONS",
    "device groups": "HOME_MAX_DEVICE_GROUPS",
}


def _stored(instance: models.Model, field: models.Field):
    # A foreign key is compared by its id, so a comparison never loads the related row.
    return getattr(instance, field.attname)


def _incoming(field: models.Field, value):
    if field.is_relation and isinstance(value, models.Model):
        return value.pk
    return value


def model_update(*, instance: models.Model, data: dict[str, Any]) -> list[str]:
    """Set the fields of `data` that differ from `instance` and save only those (and
    `updated_at`); returns their names, in `data`'s order, and writes nothing when empty.

    A full `save()` writes every column from the copy in memory, so a column another process
    wrote since the copy was loaded (the MQTT listener's reported state, a hub's status) would
    go back to its old value. Input is validated by the API's serializers and the admin's forms,
    where a mistake becomes a 400 naming the field; nothing is re-validated here.
    """
    meta = instance._meta
    changed = []
    for name, value in data.items():
        field = meta.get_field(name)
        if not field.concrete or field.many_to_many:
            raise ValueError(f"{meta.label}.{name} is not a column")
        if _stored(instance, field) != _incoming(field, value):
            setattr(instance, name, value)
            changed.append(name)
    if changed:
        stamped = [f.name for f in meta.concrete_fields if getattr(f, "auto_now", False) and f.name not in changed]
        instance.save(update_fields=[*changed, *stamped])
    return changed


def row_lock(instance: models.Model) -> models.Model:
    """Lock `instance`'s row until the transaction ends and bring its columns up to date.

    For rows another process writes concurrently: whatever the caller then compares, saves
    and publishes is what the database holds, and that process waits for the commit instead
    of writing in between. Call it inside the transaction, before reading the row's values.
    """
    model = type(instance)
    fresh = model._base_manager.select_for_update().filter(pk=instance.pk).first()
    if fresh is None:
        # Deleted since the request loaded it: the same answer as if it had been gone before.
        raise Http404(f"{model._meta.verbose_name} not found")
    for field in model._meta.concrete_fields:
        value = getattr(fresh, field.attname)
        if getattr(instance, field.attname) != value:
            setattr(instance, field.attname, value)
            if field.is_relation and field.is_cached(instance):
                field.delete_cached_value(instance)
    return instance


def home_limit_check(*, home: models.Model, model: type[models.Model], what: str) -> None:
    """Refuse (409 `home_limit`) to add one more `model` row to a home that holds its limit.

    Takes the home's row lock first, so concurrent creates in one home count one after the
    other and cannot pass the limit together. FOR NO KEY UPDATE: the rows that merely refer
    to the home (a command, a reading) still go ahead. Call inside the create's transaction.
    """
    limit = getattr(settings, HOME_LIMITS[what])
    locked = type(home)._base_manager.select_for_update(no_key=True).filter(pk=home.pk).values_list("pk", flat=True)
    if not list(locked):
        raise Http404(f"{home._meta.verbose_name} not found")
    if model._base_manager.filter(home_id=home.pk).count() >= limit:
        raise ApplicationError(HomeError.HOME_LIMIT, f"A home holds at most {limit} {what}.")


def _json_ready(value):
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return value


def bulk_insert(instances: list[models.Model]) -> None:
    """Insert new instances of one model in one statement, for the batch paths (a schedule
    tick's runs and commands) where `bulk_create`'s per-field, per-row preparation costs more
    than the database does.

    The rows travel as one JSON document that PostgreSQL turns back into rows
    (`jsonb_to_recordset`, each column cast to its type), so the client does one `json.dumps`
    instead of quoting every value. Every concrete field is written as the instance holds it:
    primary keys and `auto_now` times must be set already (they are here, from the moment the
    caller built them). No signals, as with `bulk_create`; afterwards the instances count as
    saved."""
    if not instances:
        return
    meta = instances[0]._meta
    fields = [field for field in meta.concrete_fields]
    now = datetime.datetime.now(datetime.UTC)
    for instance in instances:
        for field in fields:
            if getattr(field, "auto_now", False) or (getattr(field, "auto_now_add", False)
                                                      and getattr(instance, field.attname) is None):
                setattr(instance, field.attname, now)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    spec = ", ".join(f"{connection.ops.quote_name(field.column)} {field.db_type(connection)}" for field in fields)
    document = json.dumps([{field.column: _json_ready(getattr(instance, field.attname)) for field in fields}
                           for instance in instances], separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns})"
                       f" SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS r({spec})", [document])
    for instance in instances:
        instance._state.adding, instance._state.db = False, connection.alias
