"""Register the silent-device check: every minute."""
from django.db import migrations

from veahome.periodic import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0004_budget_check"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_task(name="Check devices that post over HTTP", task="alerts.check_devices", every=1, period="minutes",
                                expire_seconds=60)]
