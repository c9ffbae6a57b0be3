"""Beat entries registered by migrations: one periodic task for django-celery-beat's
DatabaseScheduler, as a RunPython operation (and its reverse)."""
from django.db import migrations


def periodic_task(*, name: str, task: str, every: int, period: str, expire_seconds: int) -> migrations.RunPython:
    """Register `task` to run every `every` `period` (seconds, minutes...); a run not started
    within `expire_seconds` is dropped (the next one does the same work)."""

    def register(apps, schema_editor):
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.update_or_create(name=name, defaults={
            "task": task, "interval": interval, "enabled": True, "expire_seconds": expire_seconds})

    def unregister(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()

    return migrations.RunPython(register, unregister)
