"""One error shape for every failure: malformed bodies, wrong media types, oversized bodies, bad values."""
import json

import pytest


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if field:
        assert field in body["error"]["fields"], body
    return body["error"]


def devices(w):
    return f"/api/homes/{w['home'].pk}/devices"


def test_malformed_json_is_400_malformed_body(api, world):
    response = api.generic("POST", devices(world), '{"name": "Lamp",', content_type="application/json")
    assert_error(response, 400, "malformed_body")


def test_a_json_body_that_is_not_an_object_names_the_problem(api, world):
    response = api.generic("POST", devices(world), "[1, 2]", content_type="application/json")
    assert_error(response, 400, "invalid", "nonFieldErrors")


def test_wrong_content_type_is_415(api, world):
    response = api.generic("POST", devices(world), "name=Lamp", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")
    xml = api.generic("POST", "/api/auth/login", "<login/>", content_type="application/xml")
    assert_error(xml, 415, "unsupported_media_type")


def test_body_over_max_body_bytes_is_413(api, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "x" * 2048, "type": "light", "category": "Zigbee", "roomId": str(world["living"].pk)})
    response = api.generic("POST", devices(world), body, content_type="application/json")
    assert_error(response, 413, "body_too_large")


def test_body_over_max_body_bytes_is_413_before_login(anon, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"email": "a@example.com", "password": "p" * 4096})
    assert_error(anon.generic("POST", "/api/auth/login", body, content_type="application/json"), 413, "body_too_large")


@pytest.mark.parametrize(
    "field,value",
    [("type", "toaster"), ("category", "Bluetooth"), ("name", 12), ("name", None), ("isActive", "true"),
     ("value", "12.5"), ("roomId", ["x"]), ("signalMappings", "ON")],
)
def test_wrong_types_and_unknown_enums_name_the_field(api, world, field, value):
    body = {"name": "Lamp", "type": "light", "category": "Zigbee", "roomId": str(world["living"].pk)} | {field: value}
    error = assert_error(api.post(devices(world), body, format="json"), 400, "invalid", field)
    assert error["message"].startswith(f"{field}:")


def test_member_role_enum(api, world):
    response = api.post(f"/api/homes/{world['home'].pk}/members", {"email": "x@example.com", "role": "king"}, format="json")
    assert_error(response, 400, "invalid", "role")


def test_home_timezone_must_be_iana(api, world):
    response = api.patch(f"/api/homes/{world['home'].pk}", {"timezone": "Mars/Olympus"}, format="json")
    assert_error(response, 400, "invalid", "timezone")


def test_nested_document_errors_use_dotted_camel_case_paths(api, world):
    body = {"name": "A", "trigger": {"type": "time", "at": "07:00"}, "actions": [{"type": "device", "deviceId": str(world["lamp"].pk), "state": {"is_active": True}}]}
    error = assert_error(api.post(f"/api/homes/{world['home'].pk}/automations", body, format="json"), 400, "invalid")
    assert list(error["fields"]) == ["actions.0.state.is_active"]


def test_unknown_url_is_404_in_the_error_shape(api, db):
    assert_error(api.get("/api/no-such-thing"), 404, "not_found")


def test_unsupported_method_is_405(api, world):
    assert_error(api.patch(f"/api/homes/{world['home'].pk}/hubs", {}, format="json"), 405, "method_not_allowed")


def test_non_uuid_id_in_the_url_is_404(api, world):
    assert_error(api.get(f"/api/homes/{world['home'].pk}/devices/not-a-uuid"), 404, "not_found")
    assert_error(api.get("/api/homes/not-a-uuid/devices"), 404, "not_found")


def test_bad_token_is_401(anon, world):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_error(anon.get(devices(world)), 401, "authentication_failed")


def test_unsupported_method_is_405_for_outsiders_too(outsider, world):
    # Decided by the route alone, before any home lookup, so it says nothing about the home.
    response = outsider.patch(f"/api/homes/{world['home'].pk}/hubs", {}, format="json")
    assert_error(response, 405, "method_not_allowed")
    assert "PATCH" not in response["Allow"]


def test_hub_wifi_refuses_a_number_for_the_ssid(api, world):
    response = api.post(f"/api/hubs/{world['hub'].pk}/wifi", {"ssid": 0, "password": "password123"}, format="json")
    assert_error(response, 400, "invalid", "ssid")


def test_max_length_counts_what_was_sent_not_what_is_left_after_trimming(api, world):
    response = api.patch(f"/api/hubs/{world['hub'].pk}", {"name": " " + "x" * 255}, format="json")
    assert_error(response, 400, "invalid", "name")
    assert api.patch(f"/api/hubs/{world['hub'].pk}", {"name": " Attic "}, format="json").json()["name"] == "Attic"
