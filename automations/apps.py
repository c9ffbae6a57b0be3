from django.apps import AppConfig


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = "Scenes, schedules and automations"

    def ready(self):
        from devices import state_changes

        from . import services

        # Scenes hear every device state change, from the listener, the API or an assumed command.
        state_changes.observe(services.scenes_check_states)
