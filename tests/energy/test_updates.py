"""Tariff and budget updates: the exact event each publishes, the columns it writes, and
nothing at all when nothing changes."""
import datetime
from decimal import Decimal

import pytest

from energy.models import Budget, Tariff
from energy.services import budget_set, tariff_update
from tests.events import capture_events, capture_writes, columns_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def future_tariff(home):
    return Tariff.objects.create(home=home, valid_from=datetime.date.today() + datetime.timedelta(days=30),
                                 price_per_kwh="0.25000")


def test_tariff_update_writes_the_price_alone_and_publishes_once(home, future_tariff):
    future_tariff = Tariff.objects.get(pk=future_tariff.pk)
    with capture_events(home.pk) as events, capture_writes() as writes:
        tariff_update(tariff=future_tariff, price_per_kwh=Decimal("0.30"), currency="EUR")
    assert [columns_set(w) for w in writes] == [{"price_per_kwh", "updated_at"}]
    assert events == [("tariff:update", {"tariffId": str(future_tariff.pk)})]


def test_tariff_update_that_changes_nothing_writes_and_publishes_nothing(home, future_tariff):
    future_tariff = Tariff.objects.get(pk=future_tariff.pk)
    with capture_events(home.pk) as events, capture_writes() as writes:
        tariff_update(tariff=future_tariff, price_per_kwh=Decimal("0.25"))
    assert writes == [] and events == []


def test_setting_the_same_budget_again_keeps_this_months_announcement(home, django_assert_num_queries):
    month = datetime.date.today().replace(day=1)
    Budget.objects.create(home=home, kind="kwh", amount="300.00", notified_month=month)
    with capture_events(home.pk) as events, capture_writes() as writes:
        with django_assert_num_queries(4):  # savepoint, get, the row lock, release
            budget_set(home=home, kind="kwh", amount=Decimal("300"))
    assert writes == [] and events == []
    assert Budget.objects.get(home=home).notified_month == month


def test_a_changed_budget_is_announced_afresh(home):
    Budget.objects.create(home=home, kind="kwh", amount="300.00", notified_month=datetime.date.today().replace(day=1))
    with capture_events(home.pk) as events, capture_writes() as writes:
        budget_set(home=home, kind="cost", amount=Decimal("80.00"))
    assert [columns_set(w) for w in writes] == [{"kind", "amount", "notified_month", "updated_at"}]
    assert events == [("budget:update", {"kind": "cost", "amount": "80.00"})]
    assert Budget.objects.get(home=home).notified_month is None


def test_a_first_budget_is_created_and_announced(home):
    with capture_events(home.pk) as events:
        budget_set(home=home, kind="kwh", amount="250")
    assert events == [("budget:update", {"kind": "kwh", "amount": "250"})]
    assert Budget.objects.get(home=home).amount == 250
