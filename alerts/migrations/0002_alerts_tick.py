"""Register the alerts tick: every 5 seconds (raises delayed causes, escalates, sends what is due again)."""
from django.db import migrations

from veahome.periodic import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_task(name="Raise delayed alerts", task="alerts.tick", every=5, period="seconds",
                                expire_seconds=5)]
