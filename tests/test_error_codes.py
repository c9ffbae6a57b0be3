"""The error-code catalogue (veahome/error_codes.py and each app's errors.py): the one list of
what `error.code` can be, in step with the code that raises them, docs/api.md and the schema."""
import ast
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from homes.management.commands import error_codes as command
from veahome.error_codes import ApiError, all_codes, catalogue
from veahome.errors import ApplicationError

ROOT = Path(__file__).resolve().parent.parent
APPS = ["homes", "hubs", "devices", "automations", "energy", "alerts", "realtime", "veahome"]
FAMILIES = {family.__name__: family for family in catalogue()}


def raised_codes() -> dict[str, list[str]]:
    """Each `ApplicationError(Family.NAME, ...)` in the application code: code -> where."""
    found: dict[str, list[str]] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ApplicationError" and node.args:
                    first = node.args[0]
                    assert isinstance(first, ast.Attribute) and isinstance(first.value, ast.Name), (
                        f"{path}:{node.lineno}: ApplicationError takes a catalogued code")
                    family = FAMILIES[first.value.id]
                    code = family[first.attr]
                    found.setdefault(code.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_code_has_one_meaning_and_one_status():
    values = [code.value for code in all_codes()]
    assert len(values) == len(set(values)), "a code is defined twice"
    for code in all_codes():
        assert 400 <= code.status < 600 and code.meaning.endswith((".", ")")), code


def test_every_raised_code_is_catalogued_and_every_domain_code_is_raised():
    raised = raised_codes()
    domain = {code.value for code in all_codes() if not isinstance(code, ApiError)}
    assert domain - set(raised) == set(), "catalogued but never raised"


def test_application_error_takes_only_catalogued_codes():
    with pytest.raises(TypeError):
        ApplicationError("hub_room_limit", "plain strings are not codes")
    error = ApplicationError(FAMILIES["HubError"].ROOM_LIMIT, "A hub serves at most 2 rooms.")
    assert (error.code, error.status_code) == ("hub_room_limit", 409)


def test_docs_table_is_generated_from_the_catalogue():
    call_command("error_codes", "--check")
    text = command.docs_path().read_text()
    for code in all_codes():
        assert f"| {code.status} | `{code.value}` |" in text


def test_a_stale_docs_table_is_caught(tmp_path, monkeypatch):
    stale = tmp_path / "api.md"
    stale.write_text(f"intro\n{command.BEGIN}| 400 | `gone` |\n{command.END}outro\n")
    monkeypatch.setattr(command, "docs_path", lambda: stale)
    with pytest.raises(CommandError, match="stale"):
        call_command("error_codes", "--check")
    call_command("error_codes", "--write")
    assert "`gone`" not in stale.read_text() and stale.read_text().startswith("intro\n")
    call_command("error_codes", "--check")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        return yaml.safe_load(APIClient().get("/api/schema").content)


def described(schema) -> dict[tuple[str, str], dict[str, str]]:
    return {(method, path): {status: r.get("description", "") for status, r in op["responses"].items()}
            for path, item in schema["paths"].items() for method, op in item.items() if "responses" in op}


def test_every_domain_code_is_in_the_schema_under_its_status(schema):
    descriptions = described(schema)
    for code in all_codes():
        if isinstance(code, ApiError):
            continue  # the shared codes follow from the kind of operation (tests/api/test_openapi.py)
        places = [key for key, by_status in descriptions.items() if f"`{code.value}`" in by_status.get(str(code.status), "")]
        assert places, f"{code.value} ({code.status}) is documented on no operation"


@pytest.mark.parametrize("method, path, status, code", [
    ("put", "/api/homes/{homeId}/devices/{deviceId}/control", "503", "hub_unreachable"),
    ("put", "/api/homes/{homeId}/devices/{deviceId}/control", "409", "signal_not_learned"),
    ("post", "/api/hubs/{hubId}/devices/{deviceId}/learn", "503", "hub_unreachable"),
    ("post", "/api/hubs/{hubId}/wifi", "503", "hub_unreachable"),
    ("post", "/api/hubs/{hubId}/unpair", "503", "broker_unavailable"),
    ("post", "/api/hub/provision", "503", "broker_unavailable"),
    ("post", "/api/auth/login", "401", "invalid_credentials"),
    ("post", "/api/auth/register", "409", "email_taken"),
    # Public to DRF, but the device token is checked and throttled by the view itself.
    ("post", "/api/device/data", "401", "authentication_failed"),
    ("post", "/api/device/data", "429", "throttled"),
])
def test_operations_document_the_codes_they_answer(schema, method, path, status, code):
    assert f"`{code}`" in described(schema)[(method, path)][status]
