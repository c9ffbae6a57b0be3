"""Reads for homes that are more than one filter."""
from django.db.models import OuterRef, QuerySet, Subquery

from .models import Home, Membership, User


def homes_for_user(user: User) -> QuerySet[Home]:
    """The user's homes, oldest first, each annotated with `my_role`."""
    role = Membership.objects.filter(home=OuterRef("pk"), user=user).values("role")[:1]
    return Home.objects.visible_to(user).annotate(my_role=Subquery(role)).order_by("created_at")


class _MembershipLookup:
    """The membership of an active user in a home, with the home and the user, in one query.

    Every request under `homes/{homeId}/` starts with this lookup (HomeScopedMixin). The
    ORM would compile the same three-table SELECT on every request, which costs more than
    running it; here the statement is built once per process from the models' own fields
    (so it follows migrations), and rows become model instances with the fields' own
    database converters, as the ORM would make them. tests/homes/test_selectors.py holds
    the result equal to the ORM's.
    """

    def __init__(self):
        self._prepared = None

    def _prepare(self, connection):
        parts, select = [], []
        for model, alias in ((Membership, "m"), (Home, "h"), (User, "u")):
            fields = list(model._meta.concrete_fields)
            columns = [field.get_col(alias) for field in fields]
            converters = [
                (index, connection.ops.get_db_converters(col) + col.get_db_converters(connection), col)
                for index, col in enumerate(columns)
            ]
            parts.append((model, [f.attname for f in fields], [c for c in converters if c[1]], len(fields)))
            select += [f'{alias}."{field.column}"' for field in fields]
        qn = connection.ops.quote_name
        sql = (
            f"SELECT {', '.join(select)} FROM {qn(Membership._meta.db_table)} m"
            f" JOIN {qn(Home._meta.db_table)} h ON h.{qn(Home._meta.pk.column)} = m.{qn(Membership._meta.get_field('home').column)}"
            f" JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = m.{qn(Membership._meta.get_field('user').column)}"
            f" WHERE m.{qn(Membership._meta.get_field('home').column)} = %s"
            f" AND m.{qn(Membership._meta.get_field('user').column)} = %s AND u.{qn(User._meta.get_field('is_active').column)}"
            " LIMIT 1"
        )
        return sql, parts

    def __call__(self, home_id, user_id) -> Membership | None:
        from django.db import connections, router

        connection = connections[router.db_for_read(Membership)]
        if self._prepared is None:
            self._prepared = self._prepare(connection)
        sql, parts = self._prepared
        with connection.cursor() as cursor:
            cursor.execute(sql, [home_id, user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        instances, start = [], 0
        for model, attnames, converters, width in parts:
            values = list(row[start:start + width])
            for index, funcs, col in converters:
                for convert in funcs:
                    values[index] = convert(values[index], col, connection)
            instances.append(model.from_db(connection.alias, attnames, values))
            start += width
        membership, home, user = instances
        membership.home, membership.user = home, user
        return membership


membership_in_home = _MembershipLookup()
