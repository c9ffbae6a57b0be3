"""model_update and row_lock, the update helpers every app's services use."""
import pytest
from django.http import Http404

from devices.models import Device, DeviceGroup
from tests.events import capture_writes, columns_set
from veahome.services import model_update, row_lock

pytestmark = pytest.mark.django_db


def test_model_update_saves_what_differs_and_says_what_it_was(world, django_assert_num_queries):
    lamp = Device.objects.get(pk=world["lamp"].pk)
    with capture_writes() as writes, django_assert_num_queries(1):
        changed = model_update(instance=lamp, data={"unit": "%", "name": "Lamp", "room": world["kitchen"]})
    assert changed == ["unit", "room"]
    assert [columns_set(w) for w in writes] == [{"unit", "room_id", "updated_at"}]
    stored = Device.objects.get(pk=lamp.pk)
    assert (stored.unit, stored.room_id, stored.name) == ("%", world["kitchen"].pk, "Lamp")
    assert stored.updated_at > world["lamp"].updated_at


def test_model_update_compares_a_foreign_key_without_loading_it(world, django_assert_num_queries):
    lamp = Device.objects.get(pk=world["lamp"].pk)  # room not loaded
    with django_assert_num_queries(0):
        assert model_update(instance=lamp, data={"room": world["living"], "hub": world["hub"]}) == []


def test_model_update_refuses_what_is_not_a_column(world):
    with pytest.raises(ValueError, match="devices"):
        model_update(instance=DeviceGroup.objects.get(pk=world["group"].pk), data={"devices": []})


def test_row_lock_brings_the_instance_up_to_date_and_forgets_a_moved_relation(world):
    lamp = Device.objects.select_related("room").get(pk=world["lamp"].pk)
    assert lamp.room.name == "Living room"
    Device.objects.filter(pk=lamp.pk).update(is_active=True, room=world["kitchen"])
    assert row_lock(lamp) is lamp
    assert (lamp.is_active, lamp.room_id, lamp.room.name) == (True, world["kitchen"].pk, "Kitchen")


def test_row_lock_of_a_row_deleted_meanwhile_is_not_found(world):
    lamp = Device.objects.get(pk=world["lamp"].pk)
    Device.objects.filter(pk=lamp.pk).delete()
    with pytest.raises(Http404):
        row_lock(lamp)
