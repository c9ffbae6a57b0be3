from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Scenes, schedules and automations"

    def ready(self):
        from devices import state_changes
        from hubs import status_changes

        from .engine import compiled  # noqa: F401  (registers each kind's compiler)
        from .engine import matching

        # Every device state change (from the listener, the API or an assumed command) is checked
        # against the scenes and the automations in one lookup; automations also hear telemetry
        # and hubs going online or offline.
        state_changes.observe(matching.on_state_changes)
        state_changes.observe_readings(matching.on_readings)
        status_changes.observe(matching.on_hub_status)
