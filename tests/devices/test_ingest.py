"""devices/ingest.py: the device rows a hub batch locks carry every column of the model, so
a new Device field needs no change on the hub link."""
import datetime

import pytest
from django.db import connection, transaction

from devices.ingest import DeviceWork
from hubs.ingest.messages import Report
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_batch_row_is_the_model_row(home):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    ac = f.DeviceFactory(room=room, hub=hub, type="ac", category="IR", value=22,
                         signal_mappings={"ON": "0xA1"}, state={"isActive": True, "mode": "cool"})
    now = datetime.datetime.now(datetime.timezone.utc)
    report = Report("state", hub.pk, ac.pk, {"state": {}}, now, True, None)

    work = DeviceWork()
    with transaction.atomic(), connection.cursor() as cursor:
        work.load(cursor, [report])

    row = work.devices[ac.pk]
    ac.refresh_from_db()
    for field in type(ac)._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(ac, field.attname), field.name
    assert row.pk == ac.pk and row.state == {"isActive": True, "mode": "cool"}
