"""Register the energy tasks with django-celery-beat's DatabaseScheduler."""
from django.conf import settings
from django.db import migrations

ROLLUP = "energy: roll up new readings"
RETENTION = "energy: drop raw readings past retention"


def register(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(
        every=getattr(settings, "ENERGY_ROLLUP_INTERVAL_SECONDS", 60), period="seconds"
    )
    nightly, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name=ROLLUP, defaults={"task": "energy.tasks.rollup_pending", "interval": every, "crontab": None}
    )
    PeriodicTask.objects.update_or_create(
        name=RETENTION, defaults={"task": "energy.tasks.drop_expired_readings", "crontab": nightly, "interval": None}
    )


def unregister(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[ROLLUP, RETENTION]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("energy", "0002_timeseries_tables"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, unregister)]
