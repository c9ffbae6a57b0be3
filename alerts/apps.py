from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        from devices import state_changes
        from hubs import status_changes

        from . import detection

        # Telemetry (smoke, leak, battery, temperature) and hubs going offline or coming back
        # raise and resolve alerts, inside the transaction that landed them.
        state_changes.observe_readings(detection.on_readings)
        status_changes.observe(detection.on_hub_status)
