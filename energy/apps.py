from django.apps import AppConfig


class EnergyConfig(AppConfig):
    name = "energy"
    verbose_name = "History and energy"

    def ready(self):
        from django.db.models.signals import post_delete

        from homes.models import Home

        from .tasks import schedule_home_history_purge

        # Readings and rollups are plain SQL tables (or InfluxDB series) without foreign
        # keys, so a deleted home's history is removed by a background task.
        post_delete.connect(schedule_home_history_purge, sender=Home, dispatch_uid="energy_home_purge")
