"""Hostile bodies against every operation of the schema that takes one: always a 4xx naming the field, nothing stored.

Schemathesis (test_schemathesis.py) generates what the schema describes; this suite generates
what it does not: for every property of every request body, a value nested 10,000 deep, NUL
and lone surrogates in a string and in a key, a 200,000-character string, and each JSON type
the property is not. Each is sent alone, as the owner of a furnished home (so path ids name
real objects), and every table's row count and newest `updated_at` must be unchanged after.
"""
import datetime
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Max
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from alerts import services as alert_services
from energy import services as energy_services
from homes.models import Membership
from tests import factories as f

DEEP = 10_000
HUGE = "x" * 200_000
WRONG_TYPES = {
    "string": [5, 1.5, True, [], {}],
    "number": ["5", True, [], {}],
    "integer": ["5", True, 1.5, [], {}],
    "boolean": ["true", "yes", 1, 0, [], {}],
    "array": ["x", 5, True, {}],
    "object": ["x", 5, True, []],
    "reading": ["5", [], {}],  # a reading's field is a number or a boolean
}
# `/api/device/data` takes readings of the device's own field names (an open schema).
READING_PROPERTY = {"power": {"type": "reading"}}


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return {**_resolve(schema["allOf"][0], components), **{k: v for k, v in schema.items() if k != "allOf"}}
    return schema


def _type(schema: dict, components: dict) -> str | None:
    schema = _resolve(schema, components)
    if "type" in schema:
        return schema["type"]
    for key in ("oneOf", "anyOf"):
        types = {_type(s, components) for s in schema.get(key, [])} - {None}
        if len(types) == 1:
            return types.pop()
    return "string" if "enum" in schema else None


def _operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
            if not body:
                continue
            resolved = _resolve(body["schema"], components)
            properties = resolved.get("properties") or (READING_PROPERTY if path == "/api/device/data" else {})
            if not properties:
                continue
            props = {}
            for name, prop in properties.items():
                resolved_prop = _resolve(prop, components)
                nullable = resolved_prop.get("nullable", False) or prop.get("nullable", False)
                props[name] = (_type(prop, components), nullable)
            found.append((method.upper(), path, props))
    return found


OPERATIONS = _operations()


def hostile_bodies(props: dict):
    """(description, property, raw JSON text) for every hostile value of every property."""
    for name, (json_type, nullable) in props.items():
        key = json.dumps(name)
        yield "nested 10,000 deep", name, "{%s: %s1%s}" % (key, "[" * DEEP, "]" * DEEP)
        yield "NUL in a string", name, '{%s: "on\\u0000"}' % key
        yield "lone surrogate in a string", name, '{%s: "\\ud800"}' % key
        yield "NUL in a key", name, '{%s: {"a\\u0000": 1}}' % key
        yield "lone surrogate in a key", name, '{%s: {"\\udfff": 1}}' % key
        yield "huge string", name, json.dumps({name: HUGE})
        for wrong in WRONG_TYPES.get(json_type, []):
            yield f"{json.dumps(wrong)} for a {json_type}", name, json.dumps({name: wrong})
        if not nullable and json_type is not None:
            yield "null", name, json.dumps({name: None})


def snapshot() -> dict:
    """Every project table's row count and newest update: a stored write changes one of them."""
    state = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"homes", "hubs", "devices", "automations", "energy"}:
            continue
        query = model._base_manager.all()
        fields = {f.name for f in model._meta.concrete_fields}
        state[model._meta.label] = (query.count(), query.aggregate(m=Max("updated_at"))["m"] if "updated_at" in fields else None)
    return state


@pytest.fixture
def ids(world):
    home = world["home"]
    guest = f.add_member(home, role="guest")
    tariff = energy_services.tariff_create(home=home, valid_from=datetime.date(2099, 1, 1), price_per_kwh=Decimal("0.2"))
    return {
        "homeId": home.pk, "roomId": world["kitchen"].pk, "hubId": world["hub"].pk, "deviceId": world["lamp"].pk,
        "groupId": world["group"].pk, "sceneId": world["scene"].pk, "scheduleId": world["schedule"].pk,
        "automationId": world["automation"].pk, "tariffId": tariff.pk,
        "memberId": Membership.objects.get(user=guest, home=home).pk,
        "alertId": _alert(world)["id"], "kind": "battery_low",
        "contactId": alert_services.contact_create(home=home, name="Ana", email="ana@example.com").pk,
    }


def _alert(world) -> dict:
    [row] = alert_services.alerts_raise([alert_services.Signal(
        home_id=world["home"].pk, source="device", source_id=world["lamp"].pk, kind="water_leak",
        severity="critical", title="Leak", seen=timezone.now())])
    return row


@pytest.mark.parametrize("method,path,props", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_hostile_values_are_a_4xx_naming_the_field_and_store_nothing(method, path, props, api, world, ids):
    url = path.format(**{name: value for name, value in ids.items() if "{" + name + "}" in path})
    extra = {}
    if path == "/api/device/data":
        extra["HTTP_X_DEVICE_TOKEN"] = energy_services.ingestion_token_issue(device=world["lamp"])
    before = snapshot()
    problems = []
    for description, name, body in hostile_bodies(props):
        response = api.generic(method, url, body, content_type="application/json", **extra)
        named = response.status_code == 400 and any(
            field == name or field.startswith(name + ".") for field in response.json()["error"]["fields"]
        )
        if not named:
            problems.append(f"{name}: {description} -> {response.status_code} {response.content[:300]!r}")
    assert not problems, "\n".join(problems)
    assert snapshot() == before
