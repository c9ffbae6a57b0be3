"""Support admin for alerts: the demo's alerts listed, a step with a note taken on the change
page through the service, an illegal one refused with the reason, and the home's page links
to its open alerts."""
import pytest

from alerts.models import Alert
from homes.models import Home
from tests.admin_support import change_form, seeded_agent
from tests.events import capture_events

pytestmark = pytest.mark.django_db


def test_the_demo_alerts_are_listed_and_an_agent_closes_one_with_a_note():
    agent = seeded_agent()
    page = agent.get("/admin/alerts/alert/", {"q": "demo@veahome.local"}).content.decode()
    assert "Front door lock: battery at 9 %" in page and "Temperature sensor: 31.5 °C" in page
    alert = Alert.objects.get(kind="battery_low", home__name="Demo Home")
    url = f"/admin/alerts/alert/{alert.pk}/change/"
    form = change_form(agent, url)
    form.update(step="close", note="Customer replaced the batteries.")
    with capture_events(alert.home_id) as events:
        assert agent.post(url, form).status_code == 302
    alert.refresh_from_db()
    assert (alert.status, alert.resolution, alert.close_note) == ("closed", "closed", "Customer replaced the batteries.")
    assert alert.closed_by.email == "support@veahome.local"
    assert [d["status"] for name, d in events if name == "alert:update"] == ["closed"]

    # Closed already: the same step is refused and nothing changes.
    form = change_form(agent, url)
    form.update(step="escalate")
    response = agent.post(url, form, follow=True)
    assert "The alert is closed: it cannot be escalated." in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "closed" and alert.escalated_at is None


def test_the_bulk_action_acknowledges_and_reports_what_it_could_not():
    agent = seeded_agent()
    ids = [str(pk) for pk in Alert.objects.filter(home__name="Demo Home").values_list("pk", flat=True)]
    response = agent.post("/admin/alerts/alert/", {"action": "acknowledge", "_selected_action": ids}, follow=True)
    page = response.content.decode()
    # The open one is acknowledged; the acknowledged one and the resolved one are refused.
    assert "1 alert(s): acknowledge done." in page
    assert "it cannot be acknowledged" in page
    assert sorted(Alert.objects.filter(home__name="Demo Home").values_list("status", flat=True)) == [
        "acknowledged", "acknowledged", "closed"]


def test_the_homes_page_links_to_its_open_alerts():
    agent = seeded_agent()
    home = Home.objects.get(name="Demo Home")
    page = agent.get(f"/admin/homes/home/{home.pk}/change/").content.decode()
    assert f"/admin/alerts/alert/?home__id__exact={home.pk}&amp;status__exact=open" in page
    assert "2 open" in page
