"""The OpenAPI schema and Swagger UI are served, and describe the contract of ARCHITECTURE.md."""
import pytest
import yaml

# The REST contract's paths (ARCHITECTURE.md) that exist so far, with their methods.
CONTRACT = {
    "/api/auth/register": {"post"},
    "/api/auth/login": {"post"},
    "/api/auth/me": {"get"},
    "/api/auth/refresh": {"post"},
    "/api/auth/logout": {"post"},
    "/api/hubs/{hubId}/rooms": {"post"},
    "/api/hubs/{hubId}/status": {"get"},
    "/api/homes/{homeId}/hubs": {"get"},
    "/api/homes/{homeId}/devices": {"get", "post"},
    "/api/homes/{homeId}/devices/{deviceId}": {"get", "put", "patch", "delete"},
    "/api/homes": {"get", "post"},
    "/api/homes/{homeId}": {"get"},
    "/api/homes/{homeId}/rooms": {"get"},
    "/api/homes/{homeId}/rooms/{roomId}": {"get"},
    "/api/homes/{homeId}/layout": {"put"},
    "/api/homes/{homeId}/scenes": {"get", "post"},
    "/api/homes/{homeId}/scenes/{sceneId}": {"put", "delete"},
    "/api/homes/{homeId}/schedules": {"get", "post"},
    "/api/homes/{homeId}/schedules/{scheduleId}": {"put", "delete"},
    "/api/homes/{homeId}/device-groups": {"get", "post"},
    "/api/homes/{homeId}/device-groups/{groupId}": {"put", "delete"},
    "/api/homes/{homeId}/automations": {"get", "post"},
    "/api/homes/{homeId}/automations/{automationId}": {"put", "delete"},
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_schema_and_docs_are_served_without_login(anon, db):
    assert anon.get("/api/schema").status_code == 200
    assert anon.get("/api/schema/").status_code == 200
    docs = anon.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


@pytest.mark.parametrize("path", CONTRACT)
def test_every_contract_path_is_documented(schema, path):
    assert path in schema["paths"], sorted(schema["paths"])
    assert CONTRACT[path] <= set(schema["paths"][path])


def test_path_ids_are_uuids_named_as_in_the_contract(schema):
    for path, _method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert "{" + parameter["name"] + "}" in path
                if parameter["name"] == "kind":
                    # An alert kind names a rule (alert-rules/{kind}): one of a listed set.
                    assert parameter["schema"]["enum"], (path, parameter)
                    continue
                assert parameter["schema"] == {"type": "string", "format": "uuid"}, (path, parameter)


def test_every_operation_documents_errors_in_the_one_shape(schema):
    error_ref = "#/components/schemas/Error"
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert {"400", "404"} <= codes, (method, path)
        if "requestBody" in operation:
            assert {"413", "415"} <= codes, (method, path)
        elif method in {"put", "patch"}:
            raise AssertionError(f"{method} {path} documents no request body")
        if operation.get("security") != [{}] and "security" in operation:
            assert {"401", "403"} <= codes, (method, path)
        for code in codes - {"200", "201", "202", "204"}:
            assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"] == error_ref
        success = {"200", "201", "202", "204"} & codes
        assert success, (method, path)


def test_bodies_are_camel_case_and_enums_are_listed(schema):
    components = schema["components"]["schemas"]
    device = components["Device"]["properties"]
    assert {"roomId", "hubId", "isActive", "signalMappings", "reportedAt"} <= set(device)
    assert not any("_" in name for component in components.values() for name in component.get("properties", {}))
    assert set(components["TypeEnum"]["enum"]) >= {"light", "thermostat", "tv", "ac", "lock"}
    assert set(components["RoleEnum"]["enum"]) == {"owner", "admin", "member", "guest"}
    assert components["Error"]["properties"]["error"]["$ref"] == "#/components/schemas/ErrorDetail"
    auth = components["AuthResponse"]["properties"]
    assert {"token", "refreshToken", "user", "homes"} <= set(auth)


def test_schema_generation_is_valid_and_warning_free(tmp_path, db):
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert yaml.safe_load(target.read_text())["openapi"].startswith("3.")
