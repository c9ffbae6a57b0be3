"""Register the automation engine's tick with beat: every second (due time and sun triggers,
`for` timers, delays, waits), dropped when not started within 5 s. File the triggers of the
automations saved before the engine existed in its index."""
import datetime

from django.db import migrations

KEYS = {"device": "deviceId", "sensor": "deviceId", "hub": "hubId", "scene": "sceneId"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

NAME = "Run due automation timers"
TASK = "automations.engine_tick"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=NAME, defaults={"task": TASK, "interval": every, "enabled": True, "expire_seconds": 5})


def index(apps, schema_editor):
    from automations.timing import next_run_at

    Automation = apps.get_model("automations", "Automation")
    AutomationTrigger = apps.get_model("automations", "AutomationTrigger")
    now = datetime.datetime.now(datetime.UTC)
    for automation in Automation.objects.filter(enabled=True).select_related("home"):
        trigger = automation.trigger or {}
        kind = trigger.get("type")
        next_at = None
        if kind == "time":
            next_at = next_run_at(at=datetime.time.fromisoformat(trigger["at"]), days=trigger.get("days") or WEEKDAYS,
                                  tz=automation.home.timezone, after=now)
        AutomationTrigger.objects.update_or_create(automation=automation, defaults={
            "home_id": automation.home_id, "kind": kind, "key": str(trigger.get(KEYS.get(kind), "")), "next_at": next_at})


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0005_automation_engine"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister), migrations.RunPython(index, migrations.RunPython.noop)]
