"""A device's room and hub belong to the device's home; composite foreign keys make the
database refuse anything else (deferred so that cascading deletes in one transaction pass)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial"), ("hubs", "0002_same_home_keys")]

    operations = [
        migrations.RunSQL(
            sql="""
            ALTER TABLE devices_device ADD CONSTRAINT device_room_same_home
                FOREIGN KEY (room_id, home_id) REFERENCES homes_room (id, home_id)
                ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
            ALTER TABLE devices_device ADD CONSTRAINT device_hub_same_home
                FOREIGN KEY (hub_id, home_id) REFERENCES hubs_hub (id, home_id)
                ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
            """,
            reverse_sql="""
            ALTER TABLE devices_device DROP CONSTRAINT device_room_same_home;
            ALTER TABLE devices_device DROP CONSTRAINT device_hub_same_home;
            """,
        )
    ]
