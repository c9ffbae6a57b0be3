"""The bounded JSON parser: deep nesting, NUL and lone surrogates are a 400 naming the path, never a 500."""
import datetime
import json

import pytest
from django.apps import apps

from energy import services as energy_services
from hubs.ingest import messages
from veahome import parsers

from .test_errors import assert_error


def nested(depth: int, leaf="1") -> str:
    return "[" * depth + leaf + "]" * depth


def row_counts() -> dict:
    return {model._meta.label: model.objects.count() for model in apps.get_models()
            if model._meta.app_label in {"homes", "hubs", "devices", "automations", "energy"}}


# --- the decoder itself ---------------------------------------------------------------------

def test_depth_up_to_the_limit_decodes():
    assert parsers.loads(nested(parsers.MAX_DEPTH)) is not None
    assert parsers.loads('{"a": ' * 31 + '{"b": 1}' + "}" * 31)


def test_one_level_deeper_is_refused_naming_where():
    with pytest.raises(parsers.Rejected) as refused:
        parsers.loads('{"a": {"b": [' + nested(31) + "]}}")
    assert refused.value.path == "a.b.0" + ".0" * 29
    assert "deeper than 32" in refused.value.reason


def test_ten_thousand_levels_are_refused_without_exhausting_the_stack():
    with pytest.raises(parsers.Rejected) as refused:
        parsers.loads('{"state": {"power": ' + nested(10_000) + "}}")
    assert refused.value.path == "state.power" + ".0" * 30
    for unclosed in ("[" * 10_000, "{" * 10_000):
        with pytest.raises(ValueError):  # Rejected (too deep) or malformed, never RecursionError
            parsers.loads(unclosed)


@pytest.mark.parametrize("text,path", [
    ('{"state": {"power": "on\\u0000"}}', "state.power"),
    ('{"triggers": [{"value": "\\ud800"}]}', "triggers.0.value"),
    ('{"triggers": [{"value": "\\udfff x"}]}', "triggers.0.value"),
    ('{"state": {"on\\u0000": 1}}', "state"),
    ('{"state": {"\\udc00": 1}}', "state"),
    ('{"\\u0000": 1}', ""),
    ('"\\u0000"', ""),
])
def test_nul_and_lone_surrogates_are_refused_in_strings_and_keys(text, path):
    with pytest.raises(parsers.Rejected) as refused:
        parsers.loads(text)
    assert refused.value.path == path


def test_a_surrogate_pair_is_one_character_and_fine():
    assert parsers.loads('{"name": "\\ud83d\\ude00"}') == {"name": "\U0001F600"}


def test_numbers_beyond_json_are_refused():
    with pytest.raises(parsers.Rejected) as refused:
        parsers.loads('{"value": 1e400}')
    assert refused.value.path == "value"
    for text in ('{"value": NaN}', '{"value": -Infinity}'):
        with pytest.raises(ValueError) as malformed:
            parsers.loads(text)
        assert not isinstance(malformed.value, parsers.Rejected)


def test_a_huge_key_is_cut_in_the_reported_path():
    with pytest.raises(parsers.Rejected) as refused:
        parsers.loads(json.dumps({"k" * 10_000: {"x": "\u0000"}}))
    assert refused.value.path == "k" * parsers.MAX_SEGMENT_CHARS + "….x"


def test_a_hub_report_nested_too_deep_is_skipped_not_a_crash():
    raw = messages.Raw(mid=1, qos=1, topic="hubs/00000000-0000-0000-0000-000000000001/devices/"
                       "00000000-0000-0000-0000-000000000002/state",
                       payload=('{"state": ' + nested(10_000) + "}").encode(), retain=False,
                       received_at=datetime.datetime.now(datetime.timezone.utc))
    with pytest.raises(messages.Rejected) as refused:
        messages.parse(raw)
    assert refused.value.reason == "bad_payload"


# --- every endpoint that takes a body, through HTTP -----------------------------------------

@pytest.fixture
def ingest_token(world):
    return energy_services.ingestion_token_issue(device=world["lamp"])


def _endpoints(world, token):
    home = world["home"].pk
    device = {"HTTP_AUTHORIZATION": f"Device {token}"}
    return [
        ("anon", "/api/auth/login", {}),
        ("anon", "/api/auth/register", {}),
        ("anon", "/api/hub/provision", {}),
        ("anon", "/api/device/data", device),
        ("api", f"/api/homes/{home}/devices", {}),
        ("api", f"/api/homes/{home}/scenes", {}),
        ("api", f"/api/homes/{home}/automations", {}),
    ]


@pytest.mark.parametrize("index", range(7))
def test_ten_thousand_deep_body_is_400_everywhere(index, world, api, anon, ingest_token):
    who, url, extra = _endpoints(world, ingest_token)[index]
    client = api if who == "api" else anon
    before = row_counts()
    body = '{"name": ' + nested(10_000) + "}"
    response = client.generic("POST", url, body, content_type="application/json", **extra)
    error = assert_error(response, 400, "invalid", "name" + ".0" * 31)
    assert "deeper than 32" in error["message"]
    assert row_counts() == before


def test_device_control_body_too_deep_is_400(world, api):
    url = f"/api/homes/{world['home'].pk}/devices/{world['lamp'].pk}/control"
    response = api.generic("PUT", url, '{"value": ' + nested(5000) + "}", content_type="application/json")
    assert_error(response, 400, "invalid", "value" + ".0" * 31)


def test_nul_in_a_name_is_400_naming_it_and_stores_nothing(world, api):
    before = row_counts()
    body = json.dumps({"name": "Lamp\u0000", "type": "light", "category": "Zigbee", "roomId": str(world["living"].pk)})
    error = assert_error(api.generic("POST", f"/api/homes/{world['home'].pk}/devices", body,
                                     content_type="application/json"), 400, "invalid", "name")
    assert error["fields"] == {"name": ["contains \\u0000"]}
    assert row_counts() == before


def test_lone_surrogate_in_a_scene_state_names_the_document_path(world, api):
    lamp = str(world["lamp"].pk)
    body = '{"name": "Night", "deviceStates": {"%s": {"isActive": true, "mode": "\\ud800"}}}' % lamp
    response = api.generic("POST", f"/api/homes/{world['home'].pk}/scenes", body, content_type="application/json")
    assert_error(response, 400, "invalid", f"deviceStates.{lamp}.mode")


def test_lone_surrogate_in_a_key_names_the_object_holding_it(world, api):
    body = '{"name": "Night", "deviceStates": {"\\ud800": {"isActive": true}}}'
    response = api.generic("POST", f"/api/homes/{world['home'].pk}/scenes", body, content_type="application/json")
    assert_error(response, 400, "invalid", "deviceStates")


def test_nul_in_a_login_password_is_400_not_a_server_error(anon, db):
    body = '{"email": "a@example.com", "password": "pass\\u0000word"}'
    assert_error(anon.generic("POST", "/api/auth/login", body, content_type="application/json"),
                 400, "invalid", "password")


def test_nan_is_not_json(world, api):
    url = f"/api/homes/{world['home'].pk}/devices/{world['lamp'].pk}/control"
    assert_error(api.generic("PUT", url, '{"value": NaN}', content_type="application/json"), 400, "malformed_body")


def test_device_readings_keep_their_keys_and_refuse_nul_keys(world, anon, ingest_token):
    headers = {"HTTP_AUTHORIZATION": f"Device {ingest_token}"}
    ok = anon.generic("POST", "/api/device/data", '{"powerW": 12.5}', content_type="application/json", **headers)
    assert ok.status_code == 202, ok.content
    bad = anon.generic("POST", "/api/device/data", '{"readings": [{"p\\u0000": 1}]}',
                       content_type="application/json", **headers)
    assert_error(bad, 400, "invalid", "readings.0")


def test_the_parser_is_the_default(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] == ["veahome.parsers.JSONParser"]
