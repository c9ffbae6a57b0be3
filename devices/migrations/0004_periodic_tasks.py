"""Register the system periodic tasks with django-celery-beat's DatabaseScheduler."""
from django.db import migrations

TASKS = [
    # (name, task, every seconds)
    ("Expire unconfirmed device commands", "devices.commands_expire", 5),
    ("Expire IR/RF learning sessions", "devices.learn_sessions_expire", 10),
    ("Mark silent hubs offline", "hubs.offline_sweep", 30),
]


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, seconds in TASKS:
        schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period="seconds")
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "interval": schedule, "enabled": True})


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[t[0] for t in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0003_commands_learning"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
