"""SELECTs that every request runs, written once per process instead of compiled per request.

The ORM turns a QuerySet into SQL each time it is evaluated. For the few queries nearly
every API request runs (the membership lookup, a home's first page of devices) that step
costs more CPU than PostgreSQL spends running them (bench/rest_inprocess.py). These
statements are built once from the models' own fields, so they follow migrations; rows
go through the fields' database converters and become instances as Model.from_db makes
them (by filling `__dict__` when nothing listens to the model's init signals), and
timestamps are read with psycopg's C loader. Each use is held equal to the ORM's result
by a test (tests/test_prepared.py, tests/homes/test_selectors.py).
"""
import datetime
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from django.db import connections, router
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init
from psycopg.types.datetime import TimestamptzLoader


class ModelColumns:
    """A model's concrete columns under a table alias, and how a row slice becomes an instance."""

    def __init__(self, model: type[Model], alias: str, connection):
        fields = list(model._meta.concrete_fields)
        qn = connection.ops.quote_name
        self.model = model
        self.attnames = [field.attname for field in fields]
        self.width = len(fields)
        self.sql = ", ".join(f"{alias}.{qn(field.column)}" for field in fields)
        self.converters = []
        for index, field in enumerate(fields):
            col = field.get_col(alias)
            funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if funcs:
                self.converters.append((index, funcs, col))

    def plain(self) -> bool:
        """Whether instances can be made by filling their `__dict__`, as Model.__init__ would.

        True while the model keeps Django's own __init__ and from_db and no pre_init or
        post_init receiver listens to it; asked once per query, since receivers can come later.
        """
        model = self.model
        return (
            model.__init__ is Model.__init__
            and model.from_db.__func__ is Model.from_db.__func__
            and not pre_init.has_listeners(model)
            and not post_init.has_listeners(model)
        )

    def instance(self, row: Sequence, start: int, connection, plain: bool = False) -> Model:
        values = list(row[start:start + self.width])
        for index, funcs, col in self.converters:
            for convert in funcs:
                values[index] = convert(values[index], col, connection)
        if not plain:
            return self.model.from_db(connection.alias, self.attnames, values)
        # Model.__init__ with every concrete field given sets exactly these attributes (for a
        # foreign key, its attname, which the descriptor also stores in __dict__).
        instance = self.model.__new__(self.model)
        state = instance._state = ModelState()
        state.adding, state.db = False, connection.alias
        instance.__dict__.update(zip(self.attnames, values))
        return instance


@contextmanager
def cursor_for(connection):
    """A cursor of `connection` that reads timestamptz with psycopg's own (C) loader.

    Django's loader subclasses psycopg's pure-Python one to pin the result's tzinfo to the
    connection's timezone; for a connection in UTC, psycopg's C loader already returns
    `datetime.timezone.utc` datetimes, at a fraction of the cost (three timestamps a row).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and connection.timezone is datetime.timezone.utc:
            cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
        yield cursor


class PreparedSelect:
    """`model.objects.filter(a=..., b=...)` in the model's Meta.ordering, sliced with LIMIT/OFFSET.

    `PreparedSelect(Device, "home")(home_id, limit=50)` returns what
    `Device.objects.filter(home=home_id)[:50]` returns, without compiling it.
    """

    def __init__(self, model: type[Model], *fields: str):
        self.model = model
        self.fields = fields
        self._prepared: dict[str, tuple[str, ModelColumns]] = {}

    def _prepare(self, connection) -> tuple[str, ModelColumns]:
        meta, qn = self.model._meta, connection.ops.quote_name
        order = []
        for name in meta.ordering:
            if not isinstance(name, str) or "__" in name or name.lstrip("-") == "?":
                raise ValueError(f"{self.model.__name__}: only plain field orderings can be prepared, not {name!r}")
            field = meta.pk if name.lstrip("-") == "pk" else meta.get_field(name.lstrip("-"))
            order.append(f"t.{qn(field.column)} {'DESC' if name.startswith('-') else 'ASC'}")
        columns = ModelColumns(self.model, "t", connection)
        where = " AND ".join(f"t.{qn(meta.get_field(name).column)} = %s" for name in self.fields)
        sql = f"SELECT {columns.sql} FROM {qn(meta.db_table)} t"
        if where:
            sql += f" WHERE {where}"
        if order:
            sql += f" ORDER BY {', '.join(order)}"
        return sql, columns

    def __call__(self, *values, limit: int | None = None, offset: int = 0) -> list[Model]:
        if len(values) != len(self.fields):
            raise TypeError(f"expected values for {', '.join(self.fields)}")
        connection = connections[router.db_for_read(self.model)]
        prepared = self._prepared.get(connection.alias)
        if prepared is None:
            prepared = self._prepared[connection.alias] = self._prepare(connection)
        sql, columns = prepared
        params = list(values)
        if limit is not None:
            sql += " LIMIT %s"
            params.append(limit)
        if offset:
            sql += " OFFSET %s"
            params.append(offset)
        with cursor_for(connection) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        plain = columns.plain()
        return [columns.instance(row, 0, connection, plain) for row in rows]


class PreparedList:
    """Rows for a paginator: slices run a PreparedSelect, `count()` calls the given function.

    For a list with no other filter than `select`'s fields and the model's default order.
    """

    ordered = True  # the model's Meta.ordering, as the paginator wants

    def __init__(self, select: PreparedSelect, values: Sequence, count: Callable[[], int]):
        self.select, self.values, self._count = select, tuple(values), count

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if isinstance(key, int):
            rows = self[key:key + 1]
            if not rows:
                raise IndexError(key)
            return rows[0]
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("PreparedList takes an index or a slice without step")
        start, stop = key.start or 0, key.stop
        if start < 0 or (stop is not None and stop < 0):
            raise ValueError("negative indexing is not supported")
        if stop is not None and stop <= start:
            return []
        return self.select(*self.values, limit=None if stop is None else stop - start, offset=start)
