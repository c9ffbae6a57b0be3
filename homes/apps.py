"""App configuration for users and homes; keeps the Support group in step with migrations."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate


class HomesConfig(AppConfig):
    name = "homes"
    verbose_name = "Users and homes"

    def ready(self):
        from veahome import startup  # noqa: F401  (registers the check on the signing keys)

        from .support import sync_after_migrate

        # Every app's emission, not only ours: later apps' permissions exist only after theirs.
        post_migrate.connect(sync_after_migrate, dispatch_uid="homes.support_group_sync")
