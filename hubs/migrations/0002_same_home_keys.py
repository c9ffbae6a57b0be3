"""A hub's room slot must name a room of the hub's own home; the database enforces it with
composite foreign keys (deferred, so Django's cascading deletes in one transaction pass)."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("hubs", "0001_initial"), ("homes", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="""
            ALTER TABLE hubs_hubroom ADD CONSTRAINT hubroom_hub_same_home
                FOREIGN KEY (hub_id, home_id) REFERENCES hubs_hub (id, home_id)
                ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
            ALTER TABLE hubs_hubroom ADD CONSTRAINT hubroom_room_same_home
                FOREIGN KEY (room_id, home_id) REFERENCES homes_room (id, home_id)
                ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;
            """,
            reverse_sql="""
            ALTER TABLE hubs_hubroom DROP CONSTRAINT hubroom_hub_same_home;
            ALTER TABLE hubs_hubroom DROP CONSTRAINT hubroom_room_same_home;
            """,
        )
    ]
