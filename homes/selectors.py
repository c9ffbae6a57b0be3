"""Reads for homes that are more than one filter."""
from django.db import connections, router
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from veahome.prepared import ModelColumns, cursor_for

from .models import Home, Invitation, Membership, User


def homes_for_user(user: User) -> QuerySet[Home]:
    """The user's homes, oldest first, each annotated with `my_role`."""
    role = Membership.objects.filter(home=OuterRef("pk"), user=user).values("role")[:1]
    return Home.objects.visible_to(user).annotate(my_role=Subquery(role)).order_by("created_at")


def invitations_open() -> QuerySet[Invitation]:
    """Invitations that can still be answered: pending and not expired."""
    return Invitation.objects.filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())


def invitations_addressed_to(user: User, *, open_only: bool = False) -> QuerySet[Invitation]:
    """The invitations to the user's account email, whenever they were sent (before they registered
    too); only those that can still be answered with `open_only`.

    The user is identified by that email alone: another user asking for one of these gets a 404.
    """
    invitations = invitations_open() if open_only else Invitation.objects.all()
    return invitations.filter(email=user.email.strip().lower()).select_related("home", "invited_by")


class _MembershipLookup:
    """The membership of an active user in a home, with the home and the user, in one query.

    Every request under `homes/{homeId}/` starts with this lookup (HomeScopedMixin), so it
    is written once per process (veahome/prepared.py) instead of compiled per request.
    tests/homes/test_selectors.py holds the result equal to the ORM's.
    """

    def __init__(self):
        self._prepared = {}

    def _prepare(self, connection):
        parts = [ModelColumns(model, alias, connection) for model, alias in ((Membership, "m"), (Home, "h"), (User, "u"))]
        qn = connection.ops.quote_name
        home, user = (qn(Membership._meta.get_field(name).column) for name in ("home", "user"))
        sql = (
            f"SELECT {', '.join(part.sql for part in parts)} FROM {qn(Membership._meta.db_table)} m"
            f" JOIN {qn(Home._meta.db_table)} h ON h.{qn(Home._meta.pk.column)} = m.{home}"
            f" JOIN {qn(User._meta.db_table)} u ON u.{qn(User._meta.pk.column)} = m.{user}"
            f" WHERE m.{home} = %s AND m.{user} = %s AND u.{qn(User._meta.get_field('is_active').column)}"
            " LIMIT 1"
        )
        return sql, parts

    def __call__(self, home_id, user_id) -> Membership | None:
        connection = connections[router.db_for_read(Membership)]
        prepared = self._prepared.get(connection.alias)
        if prepared is None:
            prepared = self._prepared[connection.alias] = self._prepare(connection)
        sql, parts = prepared
        with cursor_for(connection) as cursor:
            cursor.execute(sql, [home_id, user_id])
            row = cursor.fetchone()
        if row is None:
            return None
        instances, start = [], 0
        for part in parts:
            instances.append(part.instance(row, start, connection, part.plain()))
            start += part.width
        membership, home, user = instances
        membership.home, membership.user = home, user
        return membership


membership_in_home = _MembershipLookup()
