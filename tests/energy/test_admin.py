"""Support admin for energy: tariffs, budgets and ingestion tokens, readable and never editable."""
import datetime
import decimal

import pytest

from devices.models import Device
from energy import services
from energy.models import Budget, IngestionToken, Tariff
from tests.admin_support import seeded_agent

pytestmark = pytest.mark.django_db


def test_agent_sees_a_homes_tariff_and_budget_but_cannot_change_them():
    agent = seeded_agent()
    device = Device.objects.select_related("home").get(name="TV")
    home = device.home
    tariff = Tariff.objects.create(home=home, valid_from=datetime.date(2026, 1, 1), price_per_kwh=decimal.Decimal("0.21"))
    budget = services.budget_set(home=home, kind="kwh", amount=decimal.Decimal("300"))

    page = agent.get("/admin/energy/tariff/", {"q": home.owner.email}).content.decode()
    assert f"/admin/energy/tariff/{tariff.pk}/change/" in page and "0.21" in page
    page = agent.get("/admin/energy/budget/").content.decode()
    assert f"/admin/energy/budget/{budget.pk}/change/" in page and "300" in page

    url = f"/admin/energy/tariff/{tariff.pk}/change/"
    assert agent.get(url).status_code == 200
    assert agent.post(url, {"price_per_kwh": "9.99"}).status_code == 403
    tariff.refresh_from_db()
    assert tariff.price_per_kwh == decimal.Decimal("0.21")
    assert agent.get("/admin/energy/budget/add/").status_code == 403
    assert agent.post(f"/admin/energy/budget/{budget.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_ingestion_token_page_shows_prefix_and_use_never_the_secret_or_its_hash():
    agent = seeded_agent()
    device = Device.objects.get(name="TV")
    secret = services.ingestion_token_issue(device=device)
    token = IngestionToken.objects.get(device=device)
    page = agent.get(f"/admin/energy/ingestiontoken/{token.pk}/change/").content.decode()
    assert token.prefix in page and "TV" in page
    assert secret not in page and token.secret_hash not in page
