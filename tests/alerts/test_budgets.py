"""Energy budgets as an alert source: over the budget raises `budget_exceeded` once a month, a
month-end forecast over it `budget_forecast` (after the first days), and a budget raised above
the usage resolves them."""
import datetime
from zoneinfo import ZoneInfo

import pytest

from alerts import detection, services
from alerts.models import Alert
from energy import services as energy_services
from tests.energy.helpers import write_energy

pytestmark = pytest.mark.django_db(transaction=True)
MADRID = ZoneInfo("Europe/Madrid")
UTC = datetime.UTC


@pytest.fixture
def used_two_kwh(world):
    """2 kWh on the lamp at the start of May 2026 (Casa is in Madrid); the check runs on 16 May."""
    start = datetime.datetime(2026, 5, 1, tzinfo=MADRID).astimezone(UTC)
    write_energy(world["lamp"], start, start + datetime.timedelta(minutes=2), wh=1000)
    return datetime.datetime(2026, 5, 16, 12, 0, tzinfo=MADRID).astimezone(UTC)


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_an_exceeded_budget_raises_once_a_month_and_a_higher_budget_resolves_it(store, world, used_two_kwh):
    home, now = world["home"], used_two_kwh
    energy_services.budget_set(home=home, kind="kwh", amount=1.5)
    assert detection.check_budgets(now=now) == {"raised": 1, "resolved": 0}
    [alert] = Alert.objects.filter(home=home)
    assert (alert.source, alert.kind, alert.severity, alert.title) == (
        "energy", "budget_exceeded", "warning", "Energy budget exceeded: 133.3 % used")
    assert alert.data["month"] == "2026-05-01" and alert.data["used"] == 2.0
    # Checked again, and again after someone closed it: once a month.
    assert detection.check_budgets(now=now) == {"raised": 0, "resolved": 0}
    services.alert_step(alert=alert, step="close", actor=home.owner, note="Known: the heater.")
    assert detection.check_budgets(now=now) == {"raised": 0, "resolved": 0}
    assert Alert.objects.filter(home=home).count() == 1
    # A new month starts from nothing: the new budget is not exceeded.
    june = datetime.datetime(2026, 6, 2, 12, 0, tzinfo=MADRID).astimezone(UTC)
    assert detection.check_budgets(now=june) == {"raised": 0, "resolved": 0}


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_raising_the_budget_above_the_usage_resolves_the_open_alert(store, world, used_two_kwh):
    home, now = world["home"], used_two_kwh
    energy_services.budget_set(home=home, kind="kwh", amount=1.5)
    detection.check_budgets(now=now)
    energy_services.budget_set(home=home, kind="kwh", amount=100)
    assert detection.check_budgets(now=now)["resolved"] == 1
    alert = Alert.objects.get(home=home)
    assert (alert.status, alert.resolution) == ("closed", "resolved")
    assert alert.close_note == "2 % of the budget used this month (2026-05-01)"


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_forecast_over_the_budget_raises_after_the_first_days_and_resolves(store, world, used_two_kwh):
    home, now = world["home"], used_two_kwh
    # 2 kWh in 15.5 days is about 4 kWh by the month's end: over 3, under 1.5 not yet exceeded.
    energy_services.budget_set(home=home, kind="kwh", amount=3)
    early = datetime.datetime(2026, 5, 3, 12, 0, tzinfo=MADRID).astimezone(UTC)
    assert detection.check_budgets(now=early) == {"raised": 0, "resolved": 0}  # too early in the month
    assert detection.check_budgets(now=now) == {"raised": 1, "resolved": 0}
    [alert] = Alert.objects.filter(home=home)
    assert (alert.kind, alert.severity) == ("budget_forecast", "info")
    assert alert.title.startswith("Energy budget on course to be exceeded: ")
    assert detection.check_budgets(now=now) == {"raised": 0, "resolved": 0}
    energy_services.budget_set(home=home, kind="kwh", amount=50)
    assert detection.check_budgets(now=now)["resolved"] == 1
    assert Alert.objects.get(pk=alert.pk).status == "closed"
