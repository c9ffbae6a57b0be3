"""Register the energy-budget check: every 10 minutes."""
from django.db import migrations

from veahome.periodic import periodic_task


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0003_notifications"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [periodic_task(name="Check energy budgets", task="alerts.check_budgets", every=10, period="minutes",
                                expire_seconds=300)]
