"""Types are strict where the contract says so: control, budgets and tariffs refuse coercible look-alikes."""
import pytest

from devices.models import Command
from energy.models import Budget, Tariff

from .test_errors import assert_error


def control(w):
    return f"/api/homes/{w['home'].pk}/devices/{w['lamp'].pk}/control"


@pytest.mark.parametrize("value", ["yes", "true", "false", 1, 0, None, [True], {"on": True}])
def test_control_is_active_takes_only_a_json_boolean(api, world, value):
    error = assert_error(api.put(control(world), {"isActive": value}, format="json"), 400, "invalid", "isActive")
    assert error["message"].startswith("isActive:")
    assert not Command.objects.filter(device=world["lamp"]).exists()


@pytest.mark.parametrize("value", [True, False, "50", "12.5", "", None, [50]])
def test_control_value_takes_only_a_json_number(api, world, value):
    assert_error(api.put(control(world), {"value": value}, format="json"), 400, "invalid", "value")
    assert not Command.objects.filter(device=world["lamp"]).exists()


def test_control_with_real_types_is_accepted(api, world):
    response = api.put(control(world), {"isActive": True, "value": 50}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["desiredState"] == {"isActive": True, "value": 50.0}


@pytest.mark.parametrize("amount", ["80", "80.00", True, None, [80]])
def test_budget_amount_is_a_number(api, world, amount):
    response = api.post(f"/api/homes/{world['home'].pk}/budget", {"kind": "cost", "amount": amount}, format="json")
    assert_error(response, 400, "invalid", "amount")
    assert not Budget.objects.filter(home=world["home"]).exists()


@pytest.mark.parametrize("body,field", [
    ({"validFrom": "2030-01-01", "pricePerKwh": "0.21"}, "pricePerKwh"),
    ({"validFrom": "2030-01-01", "pricePerKwh": False}, "pricePerKwh"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "kind": "tou",
      "periods": [{"start": "00:00", "end": "07:00", "pricePerKwh": "0.1"}]}, "periods.0.pricePerKwh"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "kind": "tou",
      "periods": [{"start": 0, "end": "07:00", "pricePerKwh": 0.1}]}, "periods.0.start"),
    ({"validFrom": "2030-01-01", "pricePerKwh": 0.2, "currency": 978}, "currency"),
])
def test_tariff_prices_are_numbers(api, world, body, field):
    response = api.post(f"/api/homes/{world['home'].pk}/tariffs", body, format="json")
    assert_error(response, 400, "invalid", field)
    assert not Tariff.objects.filter(home=world["home"]).exists()


def test_budget_and_tariff_with_numbers_are_accepted(api, world):
    home = world["home"].pk
    budget = api.post(f"/api/homes/{home}/budget", {"kind": "cost", "amount": 80}, format="json")
    assert budget.status_code in (200, 201), budget.content
    tariff = api.post(f"/api/homes/{home}/tariffs", {"validFrom": "2030-01-01", "pricePerKwh": 0.21}, format="json")
    assert tariff.status_code == 201, tariff.content
    assert tariff.json()["pricePerKwh"] == 0.21
