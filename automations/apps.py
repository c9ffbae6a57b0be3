from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Scenes, schedules and automations"

    def ready(self):
        from devices import state_changes
        from hubs import status_changes

        from . import services
        from .engine import compiled  # noqa: F401  (registers each kind's compiler)
        from .engine import runtime

        # Scenes hear every device state change, from the listener, the API or an assumed command;
        # automations hear those, telemetry and hubs going online or offline.
        state_changes.observe(services.scenes_check_states)
        state_changes.observe(runtime.on_state_changes)
        state_changes.observe_readings(runtime.on_readings)
        status_changes.observe(runtime.on_hub_status)
