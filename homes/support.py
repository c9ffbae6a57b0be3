"""The support staff's group: which models agents may look at and which they may correct."""
import logging

from django.contrib.auth.models import Group, Permission
from django.db import transaction

logger = logging.getLogger(__name__)

SUPPORT_GROUP = "Support"

# app label -> model -> actions. Agents see every customer object; they may correct
# names, time zones and flags but never add or delete (that stays with the customer's app).
SUPPORT_PERMISSIONS = {
    "homes": {
        "user": ("view", "change"), "home": ("view", "change"), "membership": ("view",), "invitation": ("view",),
        "room": ("view", "change"),
        "refreshsession": ("view",),
    },
    "hubs": {"hub": ("view", "change"), "hubroom": ("view",)},
    "devices": {
        "device": ("view", "change"), "devicegroup": ("view",), "devicegroupmember": ("view",),
        "command": ("view",), "learnsession": ("view",),
    },
    "energy": {"tariff": ("view",), "budget": ("view",), "ingestiontoken": ("view",)},
    "automations": {"scene": ("view",), "schedule": ("view", "change"), "automation": ("view", "change"),
                    "scenerun": ("view",), "schedulerun": ("view",), "automationrun": ("view",)},
    # Agents take an alert's steps (acknowledge, escalate, close with a note) through the change page.
    "alerts": {"alert": ("view", "change"), "alertrule": ("view",), "contact": ("view",),
               "notificationpolicy": ("view",), "notification": ("view",)},
}


def support_codenames() -> set[tuple[str, str]]:
    return {
        (app, f"{verb}_{model}")
        for app, models in SUPPORT_PERMISSIONS.items()
        for model, verbs in models.items()
        for verb in verbs
    }


@transaction.atomic
def support_group_sync() -> Group:
    """Create the Support group if missing and give it exactly the permissions above that exist."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = support_codenames()
    apps = {app for app, _ in wanted}
    found = [
        p
        for p in Permission.objects.filter(content_type__app_label__in=apps).select_related("content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    current = set(group.permissions.values_list("pk", flat=True))
    if current != {p.pk for p in found}:
        group.permissions.set(found)
    return group


def sync_after_migrate(sender, **kwargs) -> None:
    """post_migrate hook: permissions appear app by app, so every emission re-syncs."""
    if kwargs.get("using", "default") != "default":
        return
    support_group_sync()
