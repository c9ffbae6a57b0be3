"""Reads for homes that are more than one filter."""
from django.db.models import OuterRef, QuerySet, Subquery

from .models import Home, Membership, User


def homes_for_user(user: User) -> QuerySet[Home]:
    """The user's homes, oldest first, each annotated with `my_role`."""
    role = Membership.objects.filter(home=OuterRef("pk"), user=user).values("role")[:1]
    return Home.objects.visible_to(user).annotate(my_role=Subquery(role)).order_by("created_at")
