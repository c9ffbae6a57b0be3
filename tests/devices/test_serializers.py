"""DeviceSerializer writes its output by hand for speed; it must stay what the generic
ModelSerializer path would produce, for every field and every kind of value."""
import datetime
import decimal

import pytest
from django.utils import timezone
from rest_framework import serializers

from devices.api.serializers import DeviceSerializer, DeviceUpdateSerializer
from devices.models import Device
from tests import factories as f
from veahome.renderers import CamelCaseJSONRenderer

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=datetime.timezone.utc)


def rendered(data) -> bytes:
    return CamelCaseJSONRenderer().render(data)


@pytest.mark.parametrize("current_timezone", ["UTC", "Europe/Paris"])
@pytest.mark.parametrize("serializer_class", [DeviceSerializer, DeviceUpdateSerializer])
def test_hand_written_output_equals_the_generic_path(home, serializer_class, current_timezone):
    room = f.RoomFactory(home=home)
    hub = f.HubFactory(home=home)
    devices = [
        f.DeviceFactory(room=room, hub=None, value=None, unit="", signal_mappings={}, state={}, reported_at=None),
        f.DeviceFactory(room=room, hub=hub, type="thermostat", category="Zigbee", value=decimal.Decimal("21.50"),
                        unit="°C", state={"setpoint": 21.5, "mode": "heat", "nested": {"snake_key": [1, None]}},
                        reported_at=WHEN, is_active=True),
        f.DeviceFactory(room=room, hub=hub, type="tv", category="IR", value=decimal.Decimal("-3"),
                        signal_mappings={"ON": "0x20DF10EF", "TEMP_UP": "raw:9000,4500"}, reported_at=WHEN),
        f.DeviceFactory(room=room, hub=hub, value=decimal.Decimal("0.00")),
    ]
    with timezone.override(current_timezone):
        serializer = serializer_class(context={"home": home})
        for device in Device.objects.filter(pk__in=[d.pk for d in devices]):
            fast = serializer.to_representation(device)
            generic = serializers.ModelSerializer.to_representation(serializer, device)
            assert list(fast) == list(generic)  # same fields, same order (a new field must be added here too)
            assert rendered(fast) == rendered(generic)


def test_list_output_is_the_hand_written_one(home):
    room = f.RoomFactory(home=home)
    device = f.DeviceFactory(room=room, value=decimal.Decimal("7.25"), reported_at=WHEN)
    data = DeviceSerializer([device], many=True, context={"home": home}).data
    assert data[0]["value"] == decimal.Decimal("7.25") and data[0]["reported_at"] == "2026-03-29T01:30:15.123456Z"
    assert data[0]["room_id"] == str(room.pk) and data[0]["hub_id"] is None and data[0]["id"] == str(device.pk)
