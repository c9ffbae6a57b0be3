"""App config for the live feed."""
from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Live updates"

    def ready(self):
        from .auth import install_log_redaction

        install_log_redaction()
