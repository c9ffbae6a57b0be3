"""The one home-scoping mechanism: querysets that only show what a user's memberships allow."""
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    GUEST = "guest", "Guest"


ROLE_RANK = {Role.GUEST: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str | None, required: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(required)]


class HomeScopedQuerySet(models.QuerySet):
    """Every home-owned model's manager; `home_path` is the lookup from the model to its home."""

    home_path = "home"

    def visible_to(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        prefix = f"{self.home_path}__" if self.home_path else ""
        return self.filter(**{f"{prefix}memberships__user": user})

    def in_home(self, home):
        if not self.home_path:
            return self.filter(pk=home.pk)
        return self.filter(**{self.home_path: home})


def scoped_manager(home_path: str = "home"):
    """A manager whose queryset resolves homes through `home_path`."""
    queryset_class = type("ScopedQuerySet", (HomeScopedQuerySet,), {"home_path": home_path})
    return queryset_class.as_manager()
