"""Prepared SELECTs: the rows, instances and pages the ORM would give, without compiling the query."""
import datetime
import decimal

import pytest
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from devices.models import Device
from tests import factories as f
from veahome.prepared import PreparedList, PreparedSelect, cursor_for

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.timezone.utc)
by_home = PreparedSelect(Device, "home")


def field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


@pytest.fixture
def devices(home):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    made = [
        f.DeviceFactory(room=room, hub=hub, type="thermostat", value=decimal.Decimal("21.50"), unit="°C",
                        state={"setpoint": 21.5, "nested": {"snake_key": [1, None]}}, reported_at=WHEN),
        f.DeviceFactory(room=room, hub=None, value=None, signal_mappings={"ON": "0x1"}, reported_at=None),
    ] + [f.DeviceFactory(room=room, name=f"Lamp {n}") for n in range(5)]
    other = f.make_home(f.UserFactory(), name="Elsewhere")
    f.DeviceFactory(room=f.RoomFactory(home=other))  # never in `home`'s rows
    return made


@pytest.mark.parametrize("limit, offset", [(None, 0), (3, 0), (3, 2), (50, 6), (5, 7)])
def test_rows_and_instances_equal_the_orms(home, devices, limit, offset):
    orm = Device.objects.filter(home=home)
    orm = list(orm[offset:] if limit is None else orm[offset:offset + limit])
    fast = by_home(home.pk, limit=limit, offset=offset)
    assert [d.pk for d in fast] == [d.pk for d in orm]
    for mine, theirs in zip(fast, orm):
        assert type(mine) is Device and field_values(mine) == field_values(theirs)
        assert not mine._state.adding and mine._state.db == "default"
    if offset == 0 and limit is None:
        assert fast[0].reported_at == WHEN and fast[0].reported_at.tzinfo is datetime.timezone.utc
        assert fast[0].state["nested"]["snake_key"] == [1, None] and fast[0].value == decimal.Decimal("21.50")


def test_instances_behave_like_the_orms(home, devices):
    device = by_home(home.pk, limit=1)[0]
    assert device.room.home_id == home.pk and device.hub.home_id == home.pk  # relations load
    device.name = "Renamed"
    device.save(update_fields=["name"])
    assert Device.objects.get(pk=device.pk).name == "Renamed"


def test_a_post_init_receiver_still_sees_every_instance(home, devices):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(receiver, sender=Device)
    try:
        fast = by_home(home.pk)
    finally:
        post_init.disconnect(receiver, sender=Device)
    assert seen == [d.pk for d in fast] and len(seen) == len(devices)


def test_timestamps_come_back_in_utc_from_psycopgs_loader(home, devices):
    with cursor_for(connection) as cursor:
        cursor.execute("SELECT reported_at FROM devices_device WHERE id = %s", [devices[0].pk])
        (value,) = cursor.fetchone()
    assert value == WHEN and value.tzinfo is datetime.timezone.utc


def test_orderings_it_cannot_write_are_refused():
    class Related:
        _meta = type("Meta", (), {"ordering": ["room__name"]})()

    with pytest.raises(ValueError, match="plain field"):
        PreparedSelect(Related, "home")._prepare(connection)
    with pytest.raises(TypeError):
        by_home()


def test_a_prepared_list_pages_like_a_queryset(home, devices):
    counted = []

    def count():
        counted.append(1)
        return Device.objects.filter(home=home).count()

    rows = PreparedList(by_home, (home.pk,), count=count)
    orm = list(Device.objects.filter(home=home))
    assert [d.pk for d in rows[:3]] == [d.pk for d in orm[:3]]
    assert [d.pk for d in rows[2:5]] == [d.pk for d in orm[2:5]]
    assert [d.pk for d in rows[4:]] == [d.pk for d in orm[4:]]
    assert rows[1].pk == orm[1].pk and rows[3:3] == []
    assert len(rows) == rows.count() == len(orm) == 7 and len(counted) == 2
    with pytest.raises(IndexError):
        rows[7]
    with pytest.raises(TypeError):
        rows[::2]
    with CaptureQueriesContext(connection) as captured:
        rows[:2]
    assert len(captured.captured_queries) == 1 and "LIMIT 2" in captured.captured_queries[0]["sql"]
