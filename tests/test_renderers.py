"""The API's renderer gives exactly the camelCase of djangorestframework-camel-case, faster."""
import datetime
import decimal
import json
import uuid

import pytest
from django.conf import settings
from django.utils.translation import gettext_lazy
from djangorestframework_camel_case.render import CamelCaseJSONRenderer as LibraryRenderer

from veahome.renderers import CamelCaseJSONRenderer

SAMPLES = [
    {"count": 2, "next": None, "results": [
        {"room_id": "r1", "is_active": True, "signal_mappings": {"VOL_UP": "0x1", "snake_key": "x"},
         "state": {"is_on": True}, "reported_at": None, "value_2x": 1.5, "a_1": [{"deep_key": 1}]},
        {"device_states": {"dev_1": {"is_active": False}}, "trigger": {"device_id": "x"}},
    ]},
    [{"home_id": "h", "my_role": "owner"}, ("tuple_item", {"in_tuple": 1})],
    {"error": {"code": "invalid", "message": "m", "fields": {"room_id": ["bad"]}}},
    {gettext_lazy("lazy_key"): gettext_lazy("lazy value"), 3: "int key"},
    "plain", 7, None,
    {"device_id": uuid.UUID(int=7), "value_kwh": decimal.Decimal("1.50"), "at_time": datetime.time(7, 30),
     "on_day": datetime.date(2026, 3, 29), "when_at": datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.timezone.utc),
     "for_how_long": datetime.timedelta(minutes=5)},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_same_output_as_the_library(data):
    assert CamelCaseJSONRenderer().render(data) == LibraryRenderer().render(data)


def test_client_documents_keep_their_keys():
    body = json.loads(CamelCaseJSONRenderer().render({"signal_mappings": {"power_on": "0x1"}, "is_active": True}))
    assert body == {"signalMappings": {"power_on": "0x1"}, "isActive": True}
    assert "signal_mappings" in settings.JSON_CAMEL_CASE["JSON_UNDERSCOREIZE"]["ignore_fields"]
