"""The view side of home scoping: resolve the home from the URL through the user's membership."""
import uuid

from django.utils.functional import cached_property
from rest_framework import exceptions, viewsets

from homes.authentication import TokenUser
from homes.errors import HomeError
from homes.models import Home, Membership
from homes.scoping import Role, role_at_least
from homes.selectors import membership_in_home
from veahome.errors import ApplicationError
from veahome.prepared import PreparedList, PreparedSelect


def parse_uuid(value) -> uuid.UUID:
    """An id from the URL; anything that is not a UUID cannot name an object, so 404."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise exceptions.NotFound() from None


def require_role(membership_role: str | None, required: str) -> None:
    if not role_at_least(membership_role, required):
        raise ApplicationError(
            HomeError.ROLE_REQUIRED,
            f"This needs the {required} role in this home or higher.",
        )


class HomeScopedMixin:
    """For every view under `homes/{homeId}/`.

    A non-member gets 404 for every verb (never 403: that would confirm the home exists).
    A member whose role is too low for the action gets 403 `role_required`.
    Roles per action: `read_role` for safe methods, `write_role` otherwise, overridden by
    `action_roles`.
    """

    home_url_kwarg = "home_id"
    read_role = Role.GUEST
    write_role = Role.MEMBER
    action_roles: dict[str, str] = {}

    def get_home_id(self):
        """The home named by the URL; subclasses that start from another object override it."""
        return parse_uuid(self.kwargs.get(self.home_url_kwarg))

    @cached_property
    def membership(self) -> Membership:
        home_id = self.get_home_id()
        user = self.request.user
        # One query for the membership, its home and the user (see homes/authentication.py):
        # a deactivated user is a member of nothing.
        membership = membership_in_home(home_id, user.pk)
        if membership is None:
            raise exceptions.NotFound()
        if isinstance(user, TokenUser):
            user.provide(membership.user)
        return membership

    @property
    def home(self) -> Home:
        return self.membership.home

    def required_role(self) -> str:
        action = getattr(self, "action", None)
        if action in self.action_roles:
            return self.action_roles[action]
        return self.read_role if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_role

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method == "OPTIONS":
            # What a home's endpoint accepts is the home's business too: members only, as a read.
            require_role(self.membership.role, self.read_role)
            return
        if request.method.lower() not in getattr(self, "action_map", {request.method.lower(): None}):
            # An unrouted verb is a 405 decided by the URL alone, so it reveals nothing of the home.
            return
        require_role(self.membership.role, self.required_role())

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return super().get_queryset().none()
        return super().get_queryset().in_home(self.home)

    def get_object(self):
        parse_uuid(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field))
        return super().get_object()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):
            return context
        context["home"] = self.home
        return context


class HomeScopedViewSet(HomeScopedMixin, viewsets.ModelViewSet):
    """CRUD for a home-owned model; writes go to the subclass's service hooks.

    `prepared_list`, a PreparedSelect of the model by home, serves lists asked for without
    query parameters (the app's usual call) without compiling the query each time; the view's
    queryset must then be exactly the home's rows in the model's order.
    """

    lookup_value_regex = "[^/]+"
    prepared_list: PreparedSelect | None = None

    def list(self, request, *args, **kwargs):
        if self.prepared_list is None or request.query_params or self.paginator is None:
            return super().list(request, *args, **kwargs)
        # No filters and the first page: the home's rows in the model's order, and a queryset
        # only if the page is full and the paginator needs the count.
        rows = PreparedList(self.prepared_list, (self.home.pk,), count=lambda: self.get_queryset().count())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
